import { expect } from 'chai';
import { spec, valueViolations } from '../helpers/contract.js';

type Media = { schema?: any; example?: unknown; examples?: Record<string, { value?: unknown }> };
const resolve = (o: any): any => {
  while (o?.$ref)
    o = o.$ref
      .replace('#/', '')
      .split('/')
      .reduce((a: any, p: string) => a[p], spec);
  return o;
};

/** Every JSON answer of the spec with its examples, as docs and SDK generators show them. */
const answers: { where: string; media: Media }[] = [];
for (const [path, item] of Object.entries(spec.paths))
  for (const [method, op] of Object.entries(item))
    for (const [status, response] of Object.entries(op.responses ?? {}))
      for (const [type, media] of Object.entries(
        (resolve(response).content ?? {}) as Record<string, Media>,
      ))
        if (type.endsWith('json'))
          answers.push({ where: `${method.toUpperCase()} ${path} ${status} ${type}`, media });

describe('the spec: an example for every answer, each valid', () => {
  it('gives every JSON answer of every operation an example', () => {
    const missing = answers
      .filter(({ media }) => !media.example && !media.examples && !resolve(media.schema)?.example)
      .map((a) => a.where);
    expect(missing).to.deep.equal([]);
  });

  it('has no example its own schema refuses (what the docs show is what the gateway sends)', () => {
    const wrong: string[] = [];
    const schemas = spec.components.schemas as Record<string, any>;
    for (const { where, media } of answers) {
      const values = [
        ...(media.example === undefined ? [] : [media.example]),
        ...Object.values(media.examples ?? {}).map((e) => e.value),
      ];
      for (const v of values)
        wrong.push(...valueViolations(media.schema, v).map((e) => `${where}: ${e}`));
    }
    for (const [name, schema] of Object.entries(schemas))
      if (schema.example !== undefined)
        wrong.push(
          ...valueViolations({ $ref: `#/components/schemas/${name}` }, schema.example).map(
            (e) => `${name}: ${e}`,
          ),
        );
    expect(wrong).to.deep.equal([]);
  });
});
