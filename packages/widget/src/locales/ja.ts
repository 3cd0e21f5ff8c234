import type { JobMessages } from '../shared/messages.js';

const running = (count: number) => `${count} 件のジョブを実行中`;

/** Japanese. */
export const ja: JobMessages = {
  panelLabel: 'バックグラウンドジョブ',
  keepNavigating: 'このまま閲覧を続けられます。完了したらお知らせします。',
  jobsRunning: running,
  badge: (count) => String(count),
  badgeLabel: running,
  percent: (_value, formatted) => formatted,
  working: '処理中…',
  pending: '開始待ち…',
  elapsed: (duration) => `経過 ${duration}`,
  remaining: (duration) => `残り約 ${duration}`,
  cancel: 'キャンセル',
  dismiss: '非表示',
  clearFailed: 'すべて非表示',
  showHidden: (count) => `非表示のジョブ ${count} 件を表示`,
  retry: '再試行',
  view: '表示',
  close: '閉じる',
  expand: 'ジョブを表示',
  collapse: 'ジョブを隠す',
  completedTitle: (_job, label) => `${label} が完了しました`,
  failedTitle: (_job, label) => `${label} が失敗しました`,
  cancelledTitle: (_job, label) => `${label} をキャンセルしました`,
  reachedPercent: (label, percent) => `${label}: ${percent}`,
  announceCompleted: (name) => `${name}: 完了しました`,
  announceFailed: (name, reason) => `${name}: 失敗しました。${reason}`,
  announceCancelled: (name) => `${name}: キャンセルしました`,
  announceRetried: (name) => `${name}: 再実行を開始しました`,
  stalled: (duration) => `${duration}以上更新がありません`,
  announceStalled: (name, duration) => `${name}: ${duration}以上更新がありません`,
  announceResumed: (name) => `${name}: 更新が再開されました`,
  reconnecting: '再接続中…',
  offline: 'オフラインです。接続が戻ると更新を再開します。',
  lastUpdated: (ago) => `最終更新: ${ago}`,
  notifyMe: '完了時に通知する',
  buttonProgress: (percent) => (percent === null ? '処理中…' : `処理中… ${percent}`),
  startFailed: (reason) => `開始できませんでした: ${reason}`,
  startFailureReason: (kind) =>
    ({
      unreachable: 'サーバーに接続できません。',
      busy: 'リクエストが多すぎます。しばらくしてからもう一度お試しください。',
      signedOut: 'セッションの有効期限が切れました。もう一度ログインしてください。',
      unavailable: 'サービスを利用できません。しばらくしてからもう一度お試しください。',
      refused: 'リクエストが拒否されました。',
    })[kind],
  empty: 'ジョブはまだありません。',
  showMore: 'さらに表示',
  shownJobs: (count) => `${count} 件のジョブを表示中`,
  earlierAttempts: (count, reason) =>
    reason === null
      ? `以前の ${count} 回の試行は完了しませんでした`
      : `以前の ${count} 回の試行が失敗しました: ${reason}`,
  genericError: '問題が発生しました。',
  actionFailed: (action) =>
    action === 'cancel' ? 'ジョブをキャンセルできませんでした。' : 'ジョブを再試行できませんでした。',
};

export default ja;
