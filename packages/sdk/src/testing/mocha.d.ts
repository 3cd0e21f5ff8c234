// Mocha's globals on the web test runner's page, for `*.browser.test.ts` files.
declare function describe(title: string, body: () => void): void;
declare function it(title: string, body: () => Promise<void> | void): void;
declare function before(body: () => Promise<void> | void): void;
declare function after(body: () => Promise<void> | void): void;
declare function afterEach(body: () => Promise<void> | void): void;
