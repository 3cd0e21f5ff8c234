import type { JobMessages } from '../shared/messages.js';

const running = (count: number) => `${count} 个任务正在运行`;

/** Simplified Chinese (also for `zh` and `zh-Hans`). */
export const zhCN: JobMessages = {
  panelLabel: '后台任务',
  keepNavigating: '你可以继续浏览，完成后我们会通知你。',
  jobsRunning: running,
  badge: (count) => String(count),
  badgeLabel: running,
  percent: (_value, formatted) => formatted,
  working: '处理中…',
  pending: '等待开始…',
  elapsed: (duration) => `已用时 ${duration}`,
  remaining: (duration) => `预计还需 ${duration}`,
  cancel: '取消',
  dismiss: '隐藏',
  clearFailed: '全部隐藏',
  showHidden: (count) => `显示 ${count} 个已隐藏的任务`,
  retry: '重试',
  view: '查看',
  close: '关闭',
  expand: '显示任务',
  collapse: '收起任务',
  completedTitle: (_job, label) => `${label} 已完成`,
  failedTitle: (_job, label) => `${label} 失败`,
  cancelledTitle: (_job, label) => `${label} 已取消`,
  reachedPercent: (label, percent) => `${label}：${percent}`,
  announceCompleted: (name) => `${name}：已完成`,
  announceFailed: (name, reason) => `${name}：失败。${reason}`,
  announceCancelled: (name) => `${name}：已取消`,
  announceRetried: (name) => `${name}：已重新开始`,
  stalled: (duration) => `已 ${duration} 没有更新`,
  announceStalled: (name, duration) => `${name}：已 ${duration} 没有更新`,
  announceResumed: (name) => `${name}：已恢复更新`,
  reconnecting: '正在重新连接…',
  offline: '已离线：连接恢复后将继续更新。',
  lastUpdated: (ago) => `上次更新：${ago}`,
  notifyMe: '完成时通知我',
  buttonProgress: (percent) => (percent === null ? '处理中…' : `处理中… ${percent}`),
  startFailed: (reason) => `无法启动：${reason}`,
  startFailureReason: (kind) =>
    ({
      unreachable: '无法连接到服务器。',
      busy: '请求过多，请稍后再试。',
      signedOut: '会话已过期，请重新登录。',
      unavailable: '服务不可用，请稍后再试。',
      refused: '请求被拒绝。',
    })[kind],
  empty: '暂无任务。',
  showMore: '显示更多',
  shownJobs: (count) => `正在显示 ${count} 个任务`,
  earlierAttempts: (count, reason) =>
    reason === null ? `之前的 ${count} 次尝试未完成` : `之前的 ${count} 次尝试失败：${reason}`,
  genericError: '出了点问题。',
  actionFailed: (action) => (action === 'cancel' ? '无法取消该任务。' : '无法重试该任务。'),
};

export default zhCN;
