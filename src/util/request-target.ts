/** The request target (`req.url`) split once, at the front door, into its raw path and query. */

export interface RequestTarget {
  /** Still percent-encoded, as signatures are computed over it. */
  rawPath: string;
  /** After the `?`, without it; '' when there is none. */
  rawQuery: string;
  /** Whether the target had a `?` at all (`/a?` has one, with an empty query). */
  hasQuery: boolean;
}

export function splitTarget(url: string | undefined): RequestTarget {
  const target = url ?? '/';
  const q = target.indexOf('?');
  return q < 0 ? { rawPath: target, rawQuery: '', hasQuery: false } : { rawPath: target.slice(0, q), rawQuery: target.slice(q + 1), hasQuery: true };
}
