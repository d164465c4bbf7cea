import type { components } from '../../generated/types/gateway.js';

type S = components['schemas'];

/** What the background health monitor last measured, as the status operations read it. */
export interface HealthView {
  snapshot(): S['PlatformStatus'];
  /** Ready when the last checks of the queue and storage services passed. */
  readiness(): { ready: boolean; checks: Record<string, S['ServiceHealth']['status']> };
}
