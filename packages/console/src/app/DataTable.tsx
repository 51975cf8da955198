import type { CSSProperties, ReactNode } from 'react';
import { ErrorMessage } from './ErrorMessage.tsx';
import type { AsyncState } from './use-async.ts';

/** One column of a DataTable: its header and how a row fills its cell. */
export interface Column<T> {
  header: string;
  /** The header is read by screen readers only (a column of action buttons). */
  hideHeader?: boolean;
  cell: (row: T) => ReactNode;
  className?: string;
  style?: CSSProperties;
}

interface Props<T extends { id: string }> {
  columns: ReadonlyArray<Column<T> | false>;
  /** Each row is keyed by its id. */
  rows: readonly T[] | undefined;
  /** `data-*` attributes of a row, which tests find rows by. */
  rowData?: (row: T) => Record<`data-${string}`, string>;
  /** Said instead of the table when there are no rows (and nothing is loading). */
  empty: string;
  loading?: boolean;
  /** Cursor paging: a "Load more" button while the listing has another page. */
  more?: { available: boolean; load: () => void };
}

/**
 * The console's list table (alerts, events, reports, users, tokens, rules): a header row from the
 * columns, one row per item, a message when there is none, and "Load more" for paged listings.
 * Pages say what the columns are; the markup and its styling (`table.list`) live here once.
 * Columns given as `false` are left out (a column only some roles see).
 */
export function DataTable<T extends { id: string }>({
  columns,
  rows,
  rowData,
  empty,
  loading = false,
  more,
}: Props<T>) {
  const shown = columns.filter((c): c is Column<T> => c !== false);
  return (
    <>
      {rows && rows.length === 0 && !loading && <p className="muted">{empty}</p>}
      {rows && rows.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              {shown.map((c) => (
                <th key={c.header}>{c.hideHeader ? <span className="skip">{c.header}</span> : c.header}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id} {...rowData?.(row)}>
                {shown.map((c) => (
                  <td key={c.header} className={c.className} style={c.style}>
                    {c.cell(row)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more?.available && (
        <button type="button" disabled={loading} onClick={more.load}>
          Load more
        </button>
      )}
    </>
  );
}

/**
 * A DataTable of a listing loaded with useAsync: its rows once loaded, and its failure as a
 * message (`failed` says what could not be loaded) instead of a table.
 */
export function ListingTable<T extends { id: string }>({
  listing,
  failed,
  ...table
}: Omit<Props<T>, 'rows' | 'loading'> & { listing: AsyncState<readonly T[]>; failed: string }) {
  return (
    <>
      {listing.status === 'error' && <ErrorMessage error={listing.error} what={failed} />}
      <DataTable {...table} rows={listing.data} loading={listing.status === 'loading'} />
    </>
  );
}
