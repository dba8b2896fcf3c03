/** Tables with sortable columns and a row filter (vulnerabilities, packages, the detonation's records). */
import { h, type Attrs } from './dom.js';

export interface Column<T> {
  label: string;
  /** What the column sorts by: numbers compare as numbers, the rest as text; null, undefined and '' sort last. */
  value(row: T): unknown;
  cell(row: T): unknown;
  num?: boolean;
  nowrap?: boolean;
}

export interface TableOptions<T> {
  /** `data-table` of the table. */
  name?: string;
  /** The column sorted by to begin with. */
  sortBy?: number;
  rowAttrs?(row: T): Attrs;
}

export interface DataTable<T> {
  el: HTMLElement;
  /** Shows only the rows `keep` accepts; returns how many. */
  filter(keep: (row: T) => boolean): number;
}

const isEmpty = (v: unknown): boolean => v === null || v === undefined || v === '';

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (isEmpty(a)) return 1;
  if (isEmpty(b)) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

/** Tables longer than this scroll inside their own box. */
const SCROLL_ROWS = 12;

export function dataTable<T>(columns: readonly Column<T>[], rows: readonly T[], opts: TableOptions<T> = {}): DataTable<T> {
  const table = h('table', { class: 'data', 'data-table': opts.name ?? null });
  const headRow = h('tr');
  const tbody = h('tbody');
  const entries = rows.map((row, order) => {
    const tr = h('tr', opts.rowAttrs ? opts.rowAttrs(row) : null);
    for (const c of columns) tr.appendChild(h('td', c.num || c.nowrap ? { class: (c.num ? 'num' : '') + (c.nowrap ? ' nowrap' : '') } : null, c.cell(row)));
    return { row, tr, order };
  });
  let sortState = { col: -1, dir: 1 };
  const ths = columns.map((c, ci) => {
    const button = h('button', { type: 'button' }, c.label);
    button.addEventListener('click', () => sortBy(ci));
    const th = h('th', { scope: 'col', class: c.num ? 'num' : null, 'aria-sort': 'none' }, button);
    headRow.appendChild(th);
    return th;
  });
  function sortBy(ci: number): void {
    const column = columns[ci];
    if (!column) return;
    const dir = sortState.col === ci ? -sortState.dir : 1;
    sortState = { col: ci, dir };
    const sorted = entries.slice().sort((x, y) => {
      const va = column.value(x.row);
      const vb = column.value(y.row);
      const empties = Number(isEmpty(va)) - Number(isEmpty(vb));
      if (empties !== 0) return empties;
      return dir * compare(va, vb) || x.order - y.order;
    });
    for (const e of sorted) tbody.appendChild(e.tr);
    ths.forEach((th, i) => th.setAttribute('aria-sort', i === ci ? (dir === 1 ? 'ascending' : 'descending') : 'none'));
  }
  table.appendChild(h('thead', null, headRow));
  for (const e of entries) tbody.appendChild(e.tr);
  table.appendChild(tbody);
  if (opts.sortBy !== undefined) sortBy(opts.sortBy);
  return {
    el: rows.length > SCROLL_ROWS ? h('div', { class: 'scroll' }, table) : table,
    filter(keep) {
      let shown = 0;
      for (const e of entries) {
        const k = keep(e.row);
        e.tr.hidden = !k;
        if (k) shown++;
      }
      return shown;
    },
  };
}
