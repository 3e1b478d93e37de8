// A DRM GPU's null values carry the collector's reason (devices[i].unavailable) into the tree tooltip.

import { strict as assert } from 'node:assert';
import { servicesTree } from '../../extension/views/services-model';
import type { GpuDetails } from '../../protocol/details/gpu';
import { liveSnapshot, twoGpuSample } from './fixtures';

describe('GPU tree tooltip: why a value is n/a', () => {
  it('lists the shown values that are null with their reasons, markdown-escaped; none when all are there', () => {
    const sample = twoGpuSample();
    sample.series['gpu.1.temperature_celsius'] = null;
    sample.series['gpu.1.power_limit_watts'] = null;
    const det = sample.details.gpu as GpuDetails;
    det.devices[1].unavailable = {
      temperature_celsius: 'xe hwmon has no temperature sensor on this kernel/GPU',
      power_limit_watts: 'no power1_cap under /sys/class/drm/card1/device/hwmon/hwmon3',
      fan_ratio: 'not shown in the tooltip',
    };
    const [g0, g1] = servicesTree([liveSnapshot(sample)])[0].children![0].children!;
    assert.match(
      g1.tooltip!,
      /n\/a: Temperature — xe hwmon has no temperature sensor on this kernel\/GPU; Power limit — no power1\\_cap under \/sys\/class\/drm\/card1\/device\/hwmon\/hwmon3/,
    );
    assert.doesNotMatch(g1.tooltip!, /fan/);
    assert.doesNotMatch(g0.tooltip!, /n\/a:/);
  });
});
