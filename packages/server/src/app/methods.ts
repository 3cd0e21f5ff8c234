import type { Hono } from 'hono';
import { TrieRouter } from 'hono/router/trie-router';

/**
 * The methods that `app`'s own route table answers on a path (HEAD wherever GET is), for the `Allow`
 * header of a 405. Read from `app.routes`, so routes added later (a host's pages) count too; middleware
 * (`use`, method `ALL`) does not.
 */
export function createAllowedMethods(app: Hono): (path: string) => string[] {
  let indexed = -1;
  let router = new TrieRouter<string>();
  let methods: string[] = [];
  return (path) => {
    if (indexed !== app.routes.length) {
      router = new TrieRouter<string>();
      const seen = new Set<string>();
      for (const route of app.routes) {
        if (route.method === 'ALL') continue;
        router.add(route.method, route.path, route.method);
        seen.add(route.method);
      }
      methods = [...seen];
      indexed = app.routes.length;
    }
    const allowed = new Set(methods.filter((method) => router.match(method, path)[0].length > 0));
    if (allowed.has('GET')) allowed.add('HEAD');
    return [...allowed].sort();
  };
}
