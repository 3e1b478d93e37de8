// The /metrics alert lines on their own: label values from series names (which carry container and
// model names chosen by others) are escaped, and for_state is in epoch seconds.

import { strict as assert } from 'node:assert';
import type { AlertInstance } from '../../../protocol';
import { alertExpositionLines } from '../../../collector/alerts/exposition';

const T0 = Date.UTC(2026, 10, 22, 6, 0, 0);

function alert(series: string): AlertInstance {
  return {
    id: `docker-health:${series}`,
    ruleId: 'docker-health',
    series,
    state: 'firing',
    severity: 'critical',
    value: 1,
    threshold: 0.5,
    message: 'x',
    activeSince: T0 + 500,
    acknowledged: false,
  };
}

describe('alert exposition', () => {
  it('escapes quotes, backslashes and newlines in label values', () => {
    const lines = alertExpositionLines([alert('docker.a"b\\c\nd.health_state')]);
    assert.ok(
      lines.includes(`rigwatch_alerts{alertname="docker-health",alertstate="firing",severity="critical",series="docker.a\\"b\\\\c\\nd.health_state"} 1`),
      lines.join('\n'),
    );
    assert.ok(lines.every((l) => !l.includes('\n')));
  });

  it('gives one series per active instance and the activation time in seconds', () => {
    const lines = alertExpositionLines([alert('docker.web.health_state'), alert('docker.db.health_state')]);
    assert.equal(lines.filter((l) => l.startsWith('rigwatch_alerts{')).length, 2);
    assert.ok(lines.includes(`rigwatch_alerts_for_state{alertname="docker-health",severity="critical",series="docker.db.health_state"} ${(T0 + 500) / 1000}`));
    assert.deepEqual(
      alertExpositionLines([]).filter((l) => !l.startsWith('#')),
      [],
    );
  });
});
