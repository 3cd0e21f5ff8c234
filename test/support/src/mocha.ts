// Mocha's globals on the web test runner's page, for `*.browser.test.ts` files: they reference this
// module with `/// <reference types="@jobtracker/test-support/mocha" />`.
declare global {
  function describe(title: string, body: () => void): void;
  function it(title: string, body: () => Promise<void> | void): void;
  function before(body: () => Promise<void> | void): void;
  function after(body: () => Promise<void> | void): void;
  function afterEach(body: () => Promise<void> | void): void;
}

export {};
