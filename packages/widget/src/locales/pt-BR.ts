import type { JobMessages } from '../shared/messages.js';

const running = (count: number) => (count === 1 ? '1 tarefa em andamento' : `${count} tarefas em andamento`);

/** Brazilian Portuguese (also for `pt` and other Portuguese tags). */
export const ptBR: JobMessages = {
  panelLabel: 'Tarefas em segundo plano',
  keepNavigating: 'Você pode continuar navegando; avisaremos quando terminar.',
  jobsRunning: running,
  badge: (count) => String(count),
  badgeLabel: running,
  percent: (_value, formatted) => formatted,
  working: 'Processando…',
  pending: 'Aguardando início…',
  elapsed: (duration) => `${duration} decorridos`,
  remaining: (duration) => `faltam cerca de ${duration}`,
  cancel: 'Cancelar',
  dismiss: 'Dispensar',
  clearFailed: 'Dispensar tudo',
  showHidden: (count) => (count === 1 ? 'Mostrar 1 tarefa oculta' : `Mostrar ${count} tarefas ocultas`),
  retry: 'Tentar novamente',
  view: 'Ver',
  close: 'Fechar',
  expand: 'Mostrar tarefas',
  collapse: 'Ocultar tarefas',
  completedTitle: (_job, label) => `${label}: concluído`,
  failedTitle: (_job, label) => `${label}: falhou`,
  cancelledTitle: (_job, label) => `${label}: cancelado`,
  reachedPercent: (label, percent) => `${label}: ${percent}`,
  announceCompleted: (name) => `${name}: concluído`,
  announceFailed: (name, reason) => `${name}: falhou. ${reason}`,
  announceCancelled: (name) => `${name}: cancelado`,
  announceRetried: (name) => `${name}: iniciado novamente`,
  stalled: (duration) => `Sem atualizações há ${duration}`,
  announceStalled: (name, duration) => `${name}: sem atualizações há ${duration}`,
  announceResumed: (name) => `${name}: voltou a ser atualizado`,
  reconnecting: 'Reconectando…',
  offline: 'Sem conexão: as atualizações voltarão quando a conexão retornar.',
  lastUpdated: (ago) => `Última atualização ${ago}`,
  notifyMe: 'Avisar quando terminar',
  buttonProgress: (percent) => (percent === null ? 'Processando…' : `Processando… ${percent}`),
  startFailed: (reason) => `Não foi possível iniciar: ${reason}`,
  startFailureReason: (kind) =>
    ({
      unreachable: 'Não foi possível conectar ao servidor.',
      busy: 'Muitas solicitações. Tente novamente em instantes.',
      signedOut: 'Sua sessão expirou. Entre novamente.',
      unavailable: 'O serviço está indisponível. Tente novamente em instantes.',
      refused: 'A solicitação foi recusada.',
    })[kind],
  empty: 'Nenhuma tarefa ainda.',
  showMore: 'Mostrar mais',
  shownJobs: (count) => (count === 1 ? 'Mostrando 1 tarefa' : `Mostrando ${count} tarefas`),
  earlierAttempts: (count, reason) =>
    count === 1
      ? `1 tentativa anterior ${reason === null ? 'não terminou' : `falhou: ${reason}`}`
      : `${count} tentativas anteriores ${reason === null ? 'não terminaram' : `falharam: ${reason}`}`,
  genericError: 'Algo deu errado.',
  actionFailed: (action) =>
    action === 'cancel'
      ? 'Não foi possível cancelar a tarefa.'
      : 'Não foi possível tentar a tarefa novamente.',
};

export default ptBR;
