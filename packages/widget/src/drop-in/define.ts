// What the drop-in file registers: <job-tracker> and <job-badge> at once, the other elements when a page
// uses them, and the shipped locales, each loaded when an element's lang needs it (these modules become
// chunks beside the file). The drop-in's only module with side effects.
import { JobBadge } from '../job-badge/job-badge.js';
import { JobTracker } from '../job-tracker/job-tracker.js';
import { defineElement } from '../shared/define.js';
import { registerJobLocale } from '../shared/locale.js';
import { defineOnUse } from './define-on-use.js';

registerJobLocale('de', () => import('../locales/de.js'));
registerJobLocale('fr', () => import('../locales/fr.js'));
registerJobLocale('es', () => import('../locales/es.js'));
registerJobLocale('pt-BR', () => import('../locales/pt-BR.js'));
registerJobLocale('ja', () => import('../locales/ja.js'));
registerJobLocale('zh-CN', () => import('../locales/zh-CN.js'));
registerJobLocale('ar', () => import('../locales/ar.js'));
defineElement('job-tracker', JobTracker);
defineElement('job-badge', JobBadge);

/**
 * Defines `<job-list>`, `<job-button>` and `<job-provider>` once one of them is used under `root` (now or
 * later), loading its chunk first. The drop-in file does this for the document; call it for a shadow root
 * of your own that holds these tags.
 */
export function observeJobElements(root: Document | ShadowRoot): void {
  defineOnUse(
    {
      'job-provider': () => import('../job-provider/job-provider.js').then((module) => module.JobProvider),
      'job-list': () => import('../job-list/job-list.js').then((module) => module.JobList),
      'job-button': () => import('../job-button/job-button.js').then((module) => module.JobButton),
    },
    root,
  );
}

observeJobElements(document);
