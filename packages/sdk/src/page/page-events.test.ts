import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { browserOffline, listenToPage, pageHidden } from './page-events.js';

describe('page events outside a browser page', () => {
  it('sees a visible, online page and listens to nothing', () => {
    assert.equal(pageHidden(), false, 'no document: not hidden');
    assert.equal(browserOffline(), false, 'no navigator: not known offline');
    let called = false;
    const stop = listenToPage({
      wake: () => {
        called = true;
      },
    });
    stop();
    assert.equal(called, false, 'nothing called');
  });
});
