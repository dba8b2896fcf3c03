/** Text from an image or a user's rule, made inert in Markdown: one line, no links, images, HTML, emphasis or table cells. */
export function markdownText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/[\\`*_{}[\]()#+\-.!|<>&~"']/g, (c) => `\\${c}`);
}
