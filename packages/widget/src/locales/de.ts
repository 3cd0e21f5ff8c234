import type { JobMessages } from '../shared/messages.js';

/** German. */
export const de: JobMessages = {
  panelLabel: 'Hintergrundaufgaben',
  keepNavigating: 'Sie können weitersurfen; wir sagen Bescheid, wenn es fertig ist.',
  jobsRunning: (count) => (count === 1 ? '1 Aufgabe läuft' : `${count} Aufgaben laufen`),
  badge: (count) => String(count),
  badgeLabel: (count) => (count === 1 ? '1 Aufgabe läuft' : `${count} Aufgaben laufen`),
  percent: (_value, formatted) => formatted,
  working: 'In Arbeit…',
  pending: 'Wartet auf den Start…',
  elapsed: (duration) => `${duration} vergangen`,
  remaining: (duration) => `noch etwa ${duration}`,
  cancel: 'Abbrechen',
  dismiss: 'Ausblenden',
  clearFailed: 'Alle ausblenden',
  showHidden: (count) =>
    count === 1 ? '1 ausgeblendete Aufgabe zeigen' : `${count} ausgeblendete Aufgaben zeigen`,
  retry: 'Erneut versuchen',
  view: 'Anzeigen',
  close: 'Schließen',
  expand: 'Aufgaben anzeigen',
  collapse: 'Aufgaben ausblenden',
  completedTitle: (_job, label) => `${label} abgeschlossen`,
  failedTitle: (_job, label) => `${label} fehlgeschlagen`,
  cancelledTitle: (_job, label) => `${label} abgebrochen`,
  reachedPercent: (label, percent) => `${label}: ${percent}`,
  announceCompleted: (name) => `${name}: abgeschlossen`,
  announceFailed: (name, reason) => `${name}: fehlgeschlagen. ${reason}`,
  announceCancelled: (name) => `${name}: abgebrochen`,
  announceRetried: (name) => `${name}: neu gestartet`,
  stalled: (duration) => `Seit ${duration} keine Aktualisierung`,
  announceStalled: (name, duration) => `${name}: seit ${duration} keine Aktualisierung`,
  announceResumed: (name) => `${name}: wird wieder aktualisiert`,
  reconnecting: 'Verbindung wird wiederhergestellt…',
  offline: 'Keine Verbindung: Aktualisierungen folgen, sobald die Verbindung zurück ist.',
  lastUpdated: (ago) => `Zuletzt aktualisiert ${ago}`,
  notifyMe: 'Benachrichtigen, wenn fertig',
  buttonProgress: (percent) => (percent === null ? 'In Arbeit…' : `In Arbeit… ${percent}`),
  startFailed: (reason) => `Start fehlgeschlagen: ${reason}`,
  startFailureReason: (kind) =>
    ({
      unreachable: 'Der Server ist nicht erreichbar.',
      busy: 'Zu viele Anfragen. Bitte gleich noch einmal versuchen.',
      signedOut: 'Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.',
      unavailable: 'Der Dienst ist nicht verfügbar. Bitte gleich noch einmal versuchen.',
      refused: 'Die Anfrage wurde abgelehnt.',
    })[kind],
  empty: 'Noch keine Aufgaben.',
  showMore: 'Mehr anzeigen',
  shownJobs: (count) => (count === 1 ? '1 Aufgabe angezeigt' : `${count} Aufgaben angezeigt`),
  earlierAttempts: (count, reason) =>
    `${count === 1 ? '1 früherer Versuch' : `${count} frühere Versuche`} ${reason === null ? 'nicht abgeschlossen' : `fehlgeschlagen: ${reason}`}`,
  genericError: 'Etwas ist schiefgelaufen.',
  actionFailed: (action) =>
    action === 'cancel'
      ? 'Die Aufgabe konnte nicht abgebrochen werden.'
      : 'Die Aufgabe konnte nicht erneut gestartet werden.',
};

export default de;
