import { defineElement } from '../shared/define.js';
import { eventually, streamCount } from './widget-env.js';

/**
 * For an element's test file: defines the element, and after each test runs `cleanUp` and waits (up to
 * `closeWithinMs`) until the server holds no more streams than before the file's tests. A client stops
 * its stream only after its stores unmount (nanostores waits a second per store in the chain), and a
 * leftover stream keeps one of the browser's six connections to the server busy for the next test.
 */
export function setUpElementTests(
  tag: string,
  element: CustomElementConstructor,
  cleanUp: () => void,
  closeWithinMs: number,
): void {
  defineElement(tag, element);
  let streamsBefore = 0;
  before(async () => {
    streamsBefore = await streamCount();
  });
  afterEach(async () => {
    cleanUp();
    await eventually(
      async () => (await streamCount()) <= streamsBefore,
      closeWithinMs,
      'the streams of the test to close',
    );
  });
}
