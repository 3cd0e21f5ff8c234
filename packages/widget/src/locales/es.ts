import type { JobMessages } from '../shared/messages.js';

const running = (count: number) => (count === 1 ? '1 tarea en curso' : `${count} tareas en curso`);

/** Spanish. */
export const es: JobMessages = {
  panelLabel: 'Tareas en segundo plano',
  keepNavigating: 'Puedes seguir navegando; te avisaremos cuando termine.',
  jobsRunning: running,
  badge: (count) => String(count),
  badgeLabel: running,
  percent: (_value, formatted) => formatted,
  working: 'Procesando…',
  pending: 'Esperando para empezar…',
  elapsed: (duration) => `${duration} transcurridos`,
  remaining: (duration) => `quedan unos ${duration}`,
  cancel: 'Cancelar',
  dismiss: 'Descartar',
  clearFailed: 'Descartar todo',
  showHidden: (count) => (count === 1 ? 'Mostrar 1 tarea oculta' : `Mostrar ${count} tareas ocultas`),
  retry: 'Reintentar',
  view: 'Ver',
  close: 'Cerrar',
  expand: 'Mostrar tareas',
  collapse: 'Ocultar tareas',
  completedTitle: (_job, label) => `${label}: completado`,
  failedTitle: (_job, label) => `${label}: falló`,
  cancelledTitle: (_job, label) => `${label}: cancelado`,
  reachedPercent: (label, percent) => `${label}: ${percent}`,
  announceCompleted: (name) => `${name}: completado`,
  announceFailed: (name, reason) => `${name}: falló. ${reason}`,
  announceCancelled: (name) => `${name}: cancelado`,
  announceRetried: (name) => `${name}: iniciado de nuevo`,
  stalled: (duration) => `Sin actualizaciones desde hace ${duration}`,
  announceStalled: (name, duration) => `${name}: sin actualizaciones desde hace ${duration}`,
  announceResumed: (name) => `${name}: vuelve a actualizarse`,
  reconnecting: 'Reconectando…',
  offline: 'Sin conexión: las actualizaciones se reanudarán cuando vuelva la conexión.',
  lastUpdated: (ago) => `Última actualización ${ago}`,
  notifyMe: 'Avisarme al terminar',
  buttonProgress: (percent) => (percent === null ? 'Procesando…' : `Procesando… ${percent}`),
  startFailed: (reason) => `No se pudo iniciar: ${reason}`,
  startFailureReason: (kind) =>
    ({
      unreachable: 'No se pudo conectar con el servidor.',
      busy: 'Demasiadas solicitudes. Vuelva a intentarlo en un momento.',
      signedOut: 'Su sesión ha caducado. Vuelva a iniciar sesión.',
      unavailable: 'El servicio no está disponible. Vuelva a intentarlo en un momento.',
      refused: 'La solicitud fue rechazada.',
    })[kind],
  empty: 'Aún no hay tareas.',
  showMore: 'Mostrar más',
  shownJobs: (count) => (count === 1 ? 'Se muestra 1 tarea' : `Se muestran ${count} tareas`),
  earlierAttempts: (count, reason) =>
    count === 1
      ? `1 intento anterior ${reason === null ? 'no terminó' : `falló: ${reason}`}`
      : `${count} intentos anteriores ${reason === null ? 'no terminaron' : `fallaron: ${reason}`}`,
  genericError: 'Algo salió mal.',
  actionFailed: (action) =>
    action === 'cancel' ? 'No se pudo cancelar la tarea.' : 'No se pudo reintentar la tarea.',
};

export default es;
