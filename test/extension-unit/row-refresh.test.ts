// Pacing of tree-row refreshes so that a live row's tooltip opens and stays open (issue 18): VS Code
// re-renders a refreshed row, which closes its hover and cancels one about to open.

import { strict as assert } from 'node:assert';
import { refreshPolicy, RowRefresher, type Clock } from '../../extension/views/row-refresh';

interface Row {
  id: string;
  label: string;
  tooltip?: string;
}

/** A clock whose time moves only when the test says so; timers run when their time comes. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let t = 1_000_000;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  return {
    now: () => t,
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.push({ at: t + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((x) => x.id !== id);
    },
    advance(ms) {
      const end = t + ms;
      for (;;) {
        const due = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((x) => x !== due);
        t = Math.max(t, due.at);
        due.fn();
      }
      t = end;
    },
  };
}

function setup(hoverDelayMs = 500) {
  const clock = fakeClock();
  const rows = new Map<string, Row>([
    ['gpu/0', { id: 'gpu/0', label: 'GPU 0 · 50 %', tooltip: 'GPU 0 at 50 %' }],
    ['gpu/1', { id: 'gpu/1', label: 'GPU 1 · 10 %', tooltip: 'GPU 1 at 10 %' }],
  ]);
  const fired: { at: number; ids: string[] }[] = [];
  const start = clock.now();
  const r = new RowRefresher<Row>(
    () => rows,
    (n) => n.label,
    (changed) => {
      fired.push({ at: clock.now() - start, ids: changed.map((n) => n.id) });
      for (const n of changed) r.rendered(n); // VS Code reads the refreshed rows again
    },
    refreshPolicy(hoverDelayMs),
    clock,
  );
  for (const n of rows.values()) r.rendered(n);
  /** One collector tick: GPU 0 changes its numbers. */
  const tick = (util: number): void => {
    rows.set('gpu/0', { id: 'gpu/0', label: `GPU 0 · ${util} %`, tooltip: `GPU 0 at ${util} %` });
    r.flush();
  };
  return { clock, rows, fired, r, tick };
}

describe('tree row refresh pacing (hover-friendly)', () => {
  it('the policy keeps row refreshes further apart than the hover delay (500 ms elsewhere, 1500 ms on macOS)', () => {
    assert.deepEqual(refreshPolicy(500), { minRowIntervalMs: 3000, holdMs: 10_000 });
    assert.equal(refreshPolicy(1500).minRowIntervalMs, 4000);
    assert.equal(refreshPolicy('nonsense').minRowIntervalMs, 3000);
    assert.equal(refreshPolicy(-3).minRowIntervalMs, 3000);
  });

  it('a row changing every 500 ms is refreshed at most every 3 s, with its latest text, and unchanged rows never', () => {
    const { clock, fired, tick } = setup();
    for (let i = 0; i < 24; i++) {
      tick(50 + i);
      clock.advance(500);
    }
    assert.ok(fired.length >= 3 && fired.length <= 5, JSON.stringify(fired));
    for (let i = 1; i < fired.length; i++) assert.ok(fired[i].at - fired[i - 1].at >= 3000, JSON.stringify(fired));
    assert.ok(
      fired.every((f) => f.ids.join() === 'gpu/0'),
      'only the changed row',
    );
    // Nothing is lost: the last value reaches the view within one interval.
    const n = fired.length;
    clock.advance(3000);
    assert.equal(fired.length, n + 1, 'the last change is shown within one interval');
  });

  it('between two refreshes there is a quiet window longer than the hover delay, so a hover can open', () => {
    const { clock, fired, tick } = setup(500);
    for (let i = 0; i < 40; i++) {
      tick(50 + (i % 7));
      clock.advance(250);
    }
    const gaps = fired.slice(1).map((f, i) => f.at - fired[i].at);
    // A hover armed at a random moment opens unless a refresh falls within its 500 ms delay: 5 in 6 times.
    assert.ok(gaps.length > 0 && Math.min(...gaps) >= 6 * 500, `gaps ${gaps.join(', ')}`);
  });

  it('a row whose tooltip opened keeps its text (and the tooltip that goes with it) for the hold time, then catches up', () => {
    const { clock, fired, r, rows, tick } = setup();
    tick(60);
    assert.equal(fired.length, 1);
    // The hover opens on GPU 0: VS Code asks for the tooltip.
    assert.equal(r.hoverOpened(rows.get('gpu/0')!), 'GPU 0 at 60 %');
    assert.ok(r.isHeld('gpu/0'));
    rows.set('gpu/1', { id: 'gpu/1', label: 'GPU 1 · 11 %' });
    for (let i = 0; i < 16; i++) {
      tick(61 + i);
      clock.advance(500);
    }
    // 8 s later: GPU 0 never refreshed while held; GPU 1 (not hovered) did.
    assert.ok(
      fired.slice(1).every((f) => !f.ids.includes('gpu/0')),
      JSON.stringify(fired),
    );
    assert.ok(fired.some((f) => f.ids.includes('gpu/1')));
    clock.advance(5000);
    assert.ok(!r.isHeld('gpu/0'));
    assert.deepEqual(fired.at(-1)!.ids, ['gpu/0'], 'the held row gets its latest text once the hold ends');
  });

  it('the tooltip matches what the row shows, not a newer value not yet on screen', () => {
    const { r, rows, tick } = setup();
    tick(70); // refreshed at once (first refresh)
    tick(71); // not yet shown (within 3 s)
    assert.equal(rows.get('gpu/0')!.tooltip, 'GPU 0 at 71 %');
    assert.equal(r.hoverOpened(rows.get('gpu/0')!), 'GPU 0 at 70 %');
  });
});
