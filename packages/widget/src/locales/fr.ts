import type { JobMessages } from '../shared/messages.js';

const running = (count: number) => (count <= 1 ? `${count} tâche en cours` : `${count} tâches en cours`);

/** French (a no-break space before a colon or semicolon, as French typesetting has it). */
export const fr: JobMessages = {
  panelLabel: 'Tâches en arrière-plan',
  keepNavigating: 'Vous pouvez continuer à naviguer\u00a0; nous vous préviendrons quand ce sera terminé.',
  jobsRunning: running,
  badge: (count) => String(count),
  badgeLabel: running,
  percent: (_value, formatted) => formatted,
  working: 'En cours…',
  pending: 'En attente de démarrage…',
  elapsed: (duration) => `Temps écoulé\u00a0: ${duration}`,
  remaining: (duration) => `reste environ ${duration}`,
  cancel: 'Annuler',
  dismiss: 'Masquer',
  clearFailed: 'Tout masquer',
  showHidden: (count) =>
    count <= 1 ? `Afficher ${count} tâche masquée` : `Afficher ${count} tâches masquées`,
  retry: 'Réessayer',
  view: 'Voir',
  close: 'Fermer',
  expand: 'Afficher les tâches',
  collapse: 'Masquer les tâches',
  completedTitle: (_job, label) => `${label}\u00a0: terminé`,
  failedTitle: (_job, label) => `${label}\u00a0: échec`,
  cancelledTitle: (_job, label) => `${label}\u00a0: annulé`,
  reachedPercent: (label, percent) => `${label}\u00a0: ${percent}`,
  announceCompleted: (name) => `${name}\u00a0: terminé`,
  announceFailed: (name, reason) => `${name}\u00a0: échec. ${reason}`,
  announceCancelled: (name) => `${name}\u00a0: annulé`,
  announceRetried: (name) => `${name}\u00a0: relancé`,
  stalled: (duration) => `Aucune mise à jour depuis ${duration}`,
  announceStalled: (name, duration) => `${name}\u00a0: aucune mise à jour depuis ${duration}`,
  announceResumed: (name) => `${name}\u00a0: de nouveau mis à jour`,
  reconnecting: 'Reconnexion…',
  offline: 'Hors ligne\u00a0: les mises à jour reprendront au retour de la connexion.',
  lastUpdated: (ago) => `Dernière mise à jour ${ago}`,
  notifyMe: 'Me prévenir à la fin',
  buttonProgress: (percent) => (percent === null ? 'En cours…' : `En cours… ${percent}`),
  startFailed: (reason) => `Impossible de démarrer\u00a0: ${reason}`,
  startFailureReason: (kind) =>
    ({
      unreachable: 'Le serveur est injoignable.',
      busy: 'Trop de requêtes. Réessayez dans un instant.',
      signedOut: 'Votre session a expiré. Reconnectez-vous.',
      unavailable: 'Le service est indisponible. Réessayez dans un instant.',
      refused: 'La requête a été refusée.',
    })[kind],
  empty: 'Aucune tâche pour le moment.',
  showMore: 'Afficher plus',
  shownJobs: (count) => (count <= 1 ? `${count} tâche affichée` : `${count} tâches affichées`),
  earlierAttempts: (count, reason) =>
    count <= 1
      ? `1 tentative précédente ${reason === null ? 'non terminée' : `a échoué : ${reason}`}`
      : `${count} tentatives précédentes ${reason === null ? 'non terminées' : `ont échoué : ${reason}`}`,
  genericError: 'Une erreur s’est produite.',
  actionFailed: (action) =>
    action === 'cancel' ? 'La tâche n’a pas pu être annulée.' : 'La tâche n’a pas pu être relancée.',
};

export default fr;
