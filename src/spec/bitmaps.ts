// Per-unit bitmaps (dead, dropped, revived units): bit (u % 32) of word (u / 32) for unit u; bits past the width are 0.

/** Words of a bitmap of `units` bits. */
export function bitmapWords(units: number): number {
  return Math.ceil(units / 32);
}
