import { strict as assert } from 'node:assert';
import { createLogger } from '../../collector/log';
import { parseCollectorLogLine } from '../../extension/format';

describe('extension: collector log lines', () => {
  it("keeps the collector's own level and drops its timestamp (the output channel adds one)", () => {
    const lines: string[] = [];
    const log = createLogger('debug', (l) => lines.push(l), 'gpu');
    log.info('2 GPUs via NVML');
    log.warn('nvmlDeviceGetFanSpeed is not supported');
    log.error('cannot save history');
    log.debug('probe took 3 ms');
    assert.deepEqual(
      lines.map((l) => parseCollectorLogLine(l, 'warn')),
      [
        { level: 'info', text: '[gpu] 2 GPUs via NVML' },
        { level: 'warn', text: '[gpu] nvmlDeviceGetFanSpeed is not supported' },
        { level: 'error', text: '[gpu] cannot save history' },
        { level: 'debug', text: '[gpu] probe took 3 ms' },
      ],
    );
    // Anything else (a Node warning on stderr) keeps the stream's level.
    assert.deepEqual(parseCollectorLogLine('(node:12) ExperimentalWarning: x', 'warn'), { level: 'warn', text: '(node:12) ExperimentalWarning: x' });
  });
});
