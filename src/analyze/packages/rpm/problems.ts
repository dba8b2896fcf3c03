/**
 * Problems met while reading a damaged database, kept short: a hostile file could produce one per item, so only
 * the first few messages are kept and the rest are counted.
 */
export class ProblemLog {
  readonly messages: string[] = [];
  count = 0;

  constructor(private readonly keep = 5) {}

  add(message: string): void {
    this.count++;
    if (this.messages.length < this.keep) this.messages.push(message);
  }

  /** One line for a notice, e.g. `3 problems: a; b; c`. */
  summary(): string {
    const more = this.count > this.messages.length ? `; and ${this.count - this.messages.length} more` : '';
    return `${this.count} problem${this.count === 1 ? '' : 's'}: ${this.messages.join('; ')}${more}`;
  }
}
