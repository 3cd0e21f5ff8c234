/// <reference types="@jobtracker/test-support/mocha" />
import { assertEqual } from '@jobtracker/test-support/browser-assert';
import { listenToPage, pageHidden } from './page-events.js';

const setVisibility = (state: DocumentVisibilityState) => {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
  document.dispatchEvent(new Event('visibilitychange'));
};

describe('page events', () => {
  it('tells each change of the page to its listener until stopped', () => {
    const heard: string[] = [];
    const stop = listenToPage({
      wake: () => heard.push('wake'),
      visible: () => heard.push('visible'),
      hidden: () => heard.push('hidden'),
      leave: () => heard.push('leave'),
      restore: () => heard.push('restore'),
      storage: (key) => heard.push(`storage ${key}`),
    });
    try {
      window.dispatchEvent(new Event('focus'));
      window.dispatchEvent(new Event('online'));
      setVisibility('hidden');
      assertEqual(pageHidden(), true, 'hidden while hidden');
      setVisibility('visible');
      window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
      window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: false }));
      window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
      window.dispatchEvent(new StorageEvent('storage', { key: 'jobtracker:x' }));
    } finally {
      stop();
      Reflect.deleteProperty(document, 'visibilityState');
    }
    window.dispatchEvent(new Event('focus'));
    document.dispatchEvent(new Event('visibilitychange'));
    assertEqual(
      heard,
      ['wake', 'wake', 'hidden', 'visible', 'leave', 'restore', 'storage jobtracker:x'],
      'what the listener heard: a first page load is no restore, and nothing after stop',
    );
  });

  it('listens only to what is asked for', () => {
    const heard: string[] = [];
    const stop = listenToPage({ leave: () => heard.push('leave') });
    window.dispatchEvent(new Event('focus'));
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new PageTransitionEvent('pagehide'));
    stop();
    assertEqual(heard, ['leave'], 'what the listener heard');
  });
});
