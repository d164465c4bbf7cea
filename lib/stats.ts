/** The gateway's own counters since start, reported by /api/statistics and /api/queue-status. */
export class GatewayStats {
  readonly startedAt = new Date();
  requests = 0;
  /** Submissions no backend took. */
  submitFailures = 0;
  /** Submissions the other backend took because the chosen one refused. */
  fallbacks = 0;
  /** Record writes after the first that failed (a fallback's backend, a refusal's failed). */
  recordUpdatesFailed = 0;
  readonly submissions = { legacy: 0, bull: 0 };

  uptimeSeconds(now = Date.now()): number {
    return Math.round((now - this.startedAt.getTime()) / 10) / 100;
  }

  /** bull / (legacy + bull), or null before the first submission. */
  bullShare(): number | null {
    const total = this.submissions.legacy + this.submissions.bull;
    return total === 0 ? null : this.submissions.bull / total;
  }
}
