/**
 * A reader of the txtar archive format (golang.org/x/tools/txtar), which Trivy uses for test fixtures: a free-form
 * comment, then files, each introduced by a line `-- name --` and running to the next such line or the end.
 */
export interface TxtarArchive {
  comment: string;
  files: { name: string; content: string }[];
}

const MARKER = /^-- (.+?) --$/;

export function parseTxtar(text: string): TxtarArchive {
  const lines = text.split('\n');
  const files: TxtarArchive['files'] = [];
  const comment: string[] = [];
  let current: { name: string; lines: string[] } | null = null;
  const flush = () => {
    if (current) files.push({ name: current.name, content: current.lines.length > 0 ? `${current.lines.join('\n')}\n` : '' });
  };
  // A trailing newline ends the last line rather than starting an empty one.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    const marker = MARKER.exec(line);
    if (marker) {
      flush();
      current = { name: marker[1]!.trim(), lines: [] };
    } else if (current) {
      current.lines.push(line);
    } else {
      comment.push(line);
    }
  }
  flush();
  return { comment: comment.length > 0 ? `${comment.join('\n')}\n` : '', files };
}
