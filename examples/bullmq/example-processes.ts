// The example's processes for its tests: server.js and worker.js started as the README runs them.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Starts the example's scripts with `env`; `killAll()` ends every one started (SIGKILL). */
export function exampleProcesses(env: NodeJS.ProcessEnv) {
  const children: ChildProcess[] = [];
  return {
    /** Starts `script` (relative to examples/bullmq) and resolves once its output matches `ready`. */
    start(script: string, args: string[], ready: RegExp) {
      const path = fileURLToPath(new URL(script, import.meta.url));
      const child = spawn(process.execPath, [path, ...args], { env, stdio: 'pipe' });
      children.push(child);
      let output = '';
      return new Promise<{ match: RegExpMatchArray; output: () => string }>((resolve, reject) => {
        const read = (chunk: Buffer) => {
          output += chunk;
          const match = ready.exec(output);
          if (match) resolve({ match, output: () => output });
        };
        child.stdout?.on('data', read);
        child.stderr?.on('data', read);
        child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${output}`)));
      });
    },
    killAll() {
      for (const child of children.splice(0)) child.kill('SIGKILL');
    },
  };
}
