// types-check.ts - compiled (not run) by test/types.test.js with tsc: the declarations in
// src/index.d.ts describe the client as the README uses it, and reject misuse.
import { Client, ErrorCode, LocadError, connect, grid, withShape } from '../src/index.js';

async function example(): Promise<number> {
  const c: Client = await connect('127.0.0.1:7878', { timeout: 10000 });
  const { V, F } = grid(10);
  const { mesh } = await c.meshCreate({ V: new Float32Array(V), F: Uint32Array.from(F), name: 'sheet' });
  const { problem } = await c.problemCreate({ mesh, variables: [{ name: 'x', dim: 3 }] });
  await c.addTerm(problem, { energy: 'spring', var: 'x', params: { k: 10 } });
  const ac = new AbortController();
  const r = await c.solve(problem, {
    method: 'newton',
    fix: { var: 'x', entities: Int32Array.of(0), values: withShape(Float64Array.of(0, 0, 0), [1, 3]) },
    return: ['x'],
  }, { signal: ac.signal, onProgress: (p) => console.log(p.iter, p.energy) });
  const x = r.variables[0];
  const rows: number = x.shape[0];
  const warned: string[] = r.warnings;
  try {
    await c.delete(problem);
  } catch (e) {
    if (e instanceof LocadError && e.code === ErrorCode.NOTFOUND) return -1;
  }
  // @ts-expect-error the energy is a string
  await c.addTerm(problem, { energy: 3, var: 'x' });
  // @ts-expect-error solve results have no such field
  void r.nonsense_field_that_does_not_exist.length;
  await c.close();
  const w = new Client('ws://127.0.0.1:8080/rpc', { token: 'secret-token-of-16+' }); // a browser's address
  w.on('progress', (p) => console.log(p.problem, p.gnorm)).on('close', () => console.log('closed'));
  await w.ready;
  // @ts-expect-error a progress listener receives a Progress, not a string
  w.on('progress', (p: string) => p);
  await w.close();
  return rows + warned.length;
}
void example;
