// CRC-32 (IEEE 802.3, the polynomial of zlib, PNG and Python's zlib.crc32), browser-safe: the checksums a
// checkpoint stores per tensor (src/io/checkpoint.ts). Slicing-by-8 tables make it about 1 GB/s in V8; Node code
// that reads big files may use zlib.crc32 instead (same values, native speed).

const TABLES = makeTables();

function makeTables(): Uint32Array[] {
  const base = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    base[n] = c >>> 0;
  }
  const tables = [base];
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1];
    const next = new Uint32Array(256);
    for (let n = 0; n < 256; n++) next[n] = (prev[n] >>> 8) ^ base[prev[n] & 0xff];
    tables.push(next);
  }
  return tables;
}

/** CRC-32 of `bytes`, continuing from `previous` (the CRC of the bytes before, 0 to start). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = ~previous >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; i < end8; i += 8) {
    const a = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) ^ crc;
    crc =
      t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24] ^ t3[bytes[i + 4]] ^ t2[bytes[i + 5]] ^ t1[bytes[i + 6]] ^ t0[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) crc = t0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** A CRC as stored in checkpoint metadata: 8 lowercase hex digits. */
export function formatCrc32(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}
