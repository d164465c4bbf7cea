import type { Deps, Handlers } from './types.js';
import { submitEvaluation } from './submit-evaluation.js';
import { submitEvaluationBatch } from './submit-evaluation-batch.js';
import { getEvaluationStatus } from './get-evaluation-status.js';
import { getEvaluation } from './get-evaluation.js';
import { streamEvaluationEvents } from './stream-evaluation-events.js';
import { getBatchWebhook, getEvaluationWebhook, getWebhookSecret } from './webhooks.js';
import { getBatchStatus } from './get-batch-status.js';
import { getLanguages } from './get-languages.js';
import { listEvaluations } from './list-evaluations.js';
import { cancelEvaluation } from './cancel-evaluation.js';
import { killEvaluation } from './kill-evaluation.js';
import { updateEvaluationStatus } from './update-evaluation-status.js';
import { getApiHealth, getHealth } from './get-health.js';
import { getLiveness } from './get-liveness.js';
import { getReadiness } from './get-readiness.js';
import { getPlatformStatus } from './get-platform-status.js';
import { getQueueStatus } from './get-queue-status.js';
import { getCeleryStatus } from './get-celery-status.js';
import { getStatistics } from './get-statistics.js';
import { getApiRoot } from './get-api-root.js';
import { getSwaggerUi } from './get-swagger-ui.js';
import { getRedoc } from './get-redoc.js';
import { getEventsYaml, getOpenApiYaml } from './get-open-api-yaml.js';
import { getOpenApiJson } from './get-open-api-json.js';
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from './api-keys.js';
import { getMetrics } from './get-metrics.js';

export type { Deps, Handlers } from './types.js';

/** One handler per operationId of spec/openapi.yaml; the type fails to compile if one is missing. */
export function createHandlers(deps: Deps): Handlers {
  return {
    submitEvaluation: submitEvaluation(deps),
    submitEvaluationBatch: submitEvaluationBatch(deps),
    getEvaluationStatus: getEvaluationStatus(deps),
    getEvaluation: getEvaluation(deps),
    streamEvaluationEvents: streamEvaluationEvents(deps),
    getEvaluationWebhook: getEvaluationWebhook(deps),
    getBatchWebhook: getBatchWebhook(deps),
    getBatchStatus: getBatchStatus(deps),
    getEventsYaml: getEventsYaml(deps),
    // The original gateway's path for the same answer.
    getApiHealth: getApiHealth(deps),
    getWebhookSecret: getWebhookSecret(deps),
    listEvaluations: listEvaluations(deps),
    cancelEvaluation: cancelEvaluation(deps),
    killEvaluation: killEvaluation(deps),
    updateEvaluationStatus: updateEvaluationStatus(deps),
    getHealth: getHealth(deps),
    getLiveness: getLiveness(),
    getReadiness: getReadiness(deps),
    getPlatformStatus: getPlatformStatus(deps),
    getQueueStatus: getQueueStatus(deps),
    getCeleryStatus: getCeleryStatus(deps),
    getStatistics: getStatistics(deps),
    getLanguages: getLanguages(deps),
    getApiRoot: getApiRoot(deps),
    getSwaggerUi: getSwaggerUi(deps),
    getRedoc: getRedoc(deps),
    getOpenApiYaml: getOpenApiYaml(deps),
    getOpenApiJson: getOpenApiJson(deps),
    createApiKey: createApiKey(deps),
    listApiKeys: listApiKeys(deps),
    rotateApiKey: rotateApiKey(deps),
    revokeApiKey: revokeApiKey(deps),
    getMetrics: getMetrics(deps),
  };
}
