// The kernel-log Xid parser on captured /dev/kmsg records (test/fixtures/gpu/kmsg-nvrm-xid-driver-550.txt).

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseKernelXid } from '../../../../collector/sources/gpu/kernel-xid';

describe('gpu: NVRM Xid lines from the kernel log', () => {
  it('parses /dev/kmsg records: bus id, code, time since boot; other lines are not Xids', () => {
    const lines = fs.readFileSync(path.join(__dirname, '../../../fixtures/gpu/kmsg-nvrm-xid-driver-550.txt'), 'utf8').trim().split('\n');
    const got = lines.map(parseKernelXid);
    assert.equal(got[0], null);
    assert.deepEqual(got[1], { pciBusId: '00000000:3B:00.0', code: 13, usecSinceBoot: 9021345678 });
    assert.deepEqual(
      got.filter((x) => x !== null).map((x) => x?.code),
      [13, 13, 45, 79, 119, 94],
    );
    assert.equal(got[5], null, 'the "GPU has fallen off the bus" line without Xid is not counted twice');
    assert.equal(got[6]?.pciBusId, '00000001:0A:00.0');
  });

  it('parses journal / dmesg lines (no kmsg prefix) and rejects look-alikes', () => {
    assert.deepEqual(
      parseKernelXid("Dec 05 09:12:01 node7 kernel: NVRM: Xid (PCI:0000:b1:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus."),
      { pciBusId: '00000000:B1:00.0', code: 79, usecSinceBoot: null },
    );
    assert.equal(parseKernelXid('NVRM: Xid (PCI:zzzz:b1:00): 79'), null);
    assert.equal(parseKernelXid('user: NVRM Xid 79 in a chat message'), null);
    assert.equal(parseKernelXid('x'.repeat(100_000)), null);
  });
});
