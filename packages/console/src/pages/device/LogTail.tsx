import { useEffect, useRef } from 'react';
import type { LogLine } from '@flotilla/sdk';
import { time } from '../../app/format.ts';

/** The device's log lines, oldest at the top, following new ones unless the reader scrolled up. */
export function LogTail({ lines }: { lines: readonly LogLine[] }) {
  const box = useRef<HTMLPreElement>(null);
  const following = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <pre
      ref={box}
      className="log"
      aria-label="Log tail"
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        following.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
      }}
    >
      {lines.length === 0 && <span className="muted">No log lines.</span>}
      {lines.map((l) => (
        <div key={l.id} className={l.level}>
          {time(l.ts)} {l.level.toUpperCase().padEnd(5)} {l.message}
        </div>
      ))}
    </pre>
  );
}
