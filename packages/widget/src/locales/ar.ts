import type { JobMessages } from '../shared/messages.js';

const number = (value: number) => new Intl.NumberFormat('ar').format(value);

// Arabic has six plural forms.
function running(count: number): string {
  switch (new Intl.PluralRules('ar').select(count)) {
    case 'zero':
      return 'لا توجد مهام قيد التشغيل';
    case 'one':
      return 'مهمة واحدة قيد التشغيل';
    case 'two':
      return 'مهمتان قيد التشغيل';
    case 'few':
      return `${number(count)} مهام قيد التشغيل`;
    default:
      return `${number(count)} مهمة قيد التشغيل`;
  }
}

/** Arabic (right to left: give the page, or an ancestor of the elements, `dir="rtl"`). */
export const ar: JobMessages = {
  panelLabel: 'المهام في الخلفية',
  keepNavigating: 'يمكنك متابعة التصفح، وسنخبرك عند الانتهاء.',
  jobsRunning: running,
  badge: number,
  badgeLabel: running,
  percent: (_value, formatted) => formatted,
  working: 'جارٍ العمل…',
  pending: 'في انتظار البدء…',
  elapsed: (duration) => `مضى ${duration}`,
  remaining: (duration) => `يتبقى نحو ${duration}`,
  cancel: 'إلغاء',
  dismiss: 'إخفاء',
  clearFailed: 'مسح الكل',
  showHidden: (count) => `إظهار المهام المخفية (${number(count)})`,
  retry: 'إعادة المحاولة',
  view: 'عرض',
  close: 'إغلاق',
  expand: 'إظهار المهام',
  collapse: 'طي المهام',
  completedTitle: (_job, label) => `اكتمل ${label}`,
  failedTitle: (_job, label) => `فشل ${label}`,
  cancelledTitle: (_job, label) => `أُلغي ${label}`,
  reachedPercent: (label, percent) => `${label}: ${percent}`,
  announceCompleted: (name) => `${name}: اكتمل`,
  announceFailed: (name, reason) => `${name}: فشل. ${reason}`,
  announceCancelled: (name) => `${name}: أُلغي`,
  announceRetried: (name) => `${name}: بدأ من جديد`,
  stalled: (duration) => `لا تحديث منذ ${duration}`,
  announceStalled: (name, duration) => `${name}: لا تحديث منذ ${duration}`,
  announceResumed: (name) => `${name}: عادت التحديثات`,
  reconnecting: 'جارٍ إعادة الاتصال…',
  offline: 'غير متصل: ستُستأنف التحديثات عند عودة الاتصال.',
  lastUpdated: (ago) => `آخر تحديث ${ago}`,
  notifyMe: 'أعلمني عند الانتهاء',
  buttonProgress: (percent) => (percent === null ? 'جارٍ العمل…' : `جارٍ العمل… ${percent}`),
  startFailed: (reason) => `تعذّر البدء: ${reason}`,
  startFailureReason: (kind) =>
    ({
      unreachable: 'تعذّر الوصول إلى الخادم.',
      busy: 'طلبات كثيرة جدًا. حاول مرة أخرى بعد قليل.',
      signedOut: 'انتهت جلستك. سجّل الدخول مرة أخرى.',
      unavailable: 'الخدمة غير متاحة. حاول مرة أخرى بعد قليل.',
      refused: 'رُفض الطلب.',
    })[kind],
  empty: 'لا توجد مهام بعد.',
  showMore: 'عرض المزيد',
  shownJobs: (count) => `يُعرض ${number(count)} من المهام`,
  earlierAttempts: (count, reason) =>
    reason === null
      ? `محاولات سابقة لم تكتمل: ${number(count)}`
      : `محاولات سابقة فشلت: ${number(count)}. ${reason}`,
  genericError: 'حدث خطأ ما.',
  actionFailed: (action) => (action === 'cancel' ? 'تعذّر إلغاء المهمة.' : 'تعذّرت إعادة محاولة المهمة.'),
};

export default ar;
