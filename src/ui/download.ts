// Save a Blob as a file from the browser: the one place that knows the <a download> dance, used by every export
// button (config JSON, metrics CSV, unit-map PNG, checkpoints).

/** Characters that are not safe in a file name on common systems, replaced by '_'. */
const UNSAFE_NAME = /[\\/:*?"<>|\u0000-\u001f]/g;

/** A file name with path separators and control characters replaced; never empty. */
export function safeFileName(name: string): string {
  const cleaned = name.replace(UNSAFE_NAME, '_').trim();
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'download' : cleaned;
}

/**
 * Offers `blob` to the user as a download named `fileName`. The object URL is revoked on the next task, after the
 * click has been handled (revoking it synchronously cancels the download in some browsers).
 */
export function downloadBlob(blob: Blob, fileName: string, doc: Document = document): void {
  const url = URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = safeFileName(fileName);
  a.rel = 'noopener';
  a.style.display = 'none';
  doc.body.append(a);
  try {
    a.click();
  } finally {
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}

/** Downloads text (UTF-8) with the given MIME type, e.g. `text/csv` or `application/json`. */
export function downloadText(text: string, fileName: string, mimeType: string, doc: Document = document): void {
  downloadBlob(new Blob([text], { type: `${mimeType};charset=utf-8` }), fileName, doc);
}
