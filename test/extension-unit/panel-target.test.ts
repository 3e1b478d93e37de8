// The System Monitor panel after Stop Local Collector: it stays on the local connection (stopped, with a
// Start button) instead of switching to another connection; it follows the local one when it is back.

import { strict as assert } from 'node:assert';
import { panelTarget, type PanelChoices } from '../../extension/panel/panel-target';

const base: PanelChoices = { ids: ['local', 'collector:train'], primaryId: 'local', localId: 'local', localStopped: false };

describe('System Monitor panel target (extension/panel/panel-target.ts)', () => {
  it('shows the connection it shows while it exists, else the primary one', () => {
    assert.deepEqual(panelTarget('local', base), { kind: 'connection', id: 'local' });
    assert.deepEqual(panelTarget('collector:train', base), { kind: 'connection', id: 'collector:train' });
    assert.deepEqual(panelTarget(undefined, base), { kind: 'connection', id: 'local' });
    // A configured collector that was disconnected: the primary connection.
    assert.deepEqual(panelTarget('collector:gone', base), { kind: 'connection', id: 'local' });
    assert.deepEqual(panelTarget(undefined, { ...base, ids: [], primaryId: undefined }), { kind: 'none' });
  });

  it('Stop Local Collector leaves the panel on the local connection (stopped), not on another one', () => {
    const stopped: PanelChoices = { ...base, ids: ['collector:train'], primaryId: 'collector:train', localStopped: true };
    assert.deepEqual(panelTarget('local', stopped), { kind: 'local-stopped' });
    // Nothing else to show: the stopped local collector, with its Start button.
    assert.deepEqual(panelTarget(undefined, { ...stopped, ids: [], primaryId: undefined }), { kind: 'local-stopped' });
    // A panel on another connection stays there.
    assert.deepEqual(panelTarget('collector:train', stopped), { kind: 'connection', id: 'collector:train' });
  });

  it('follows the local connection again once it is back (Start)', () => {
    assert.deepEqual(panelTarget('local', { ...base, localStopped: false }), { kind: 'connection', id: 'local' });
  });
});
