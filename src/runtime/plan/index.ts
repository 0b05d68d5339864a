export { buildCreatePlan, monitorStep, type CreatePlanOptions, type MonitorPlan } from './create-plan.js';
export { buildExecPlan, type ExecPlanOptions } from './exec-plan.js';
export { statBindSources } from './bind-sources.js';
export { bindSourceFlags } from './bind-source-flags.js';
export type { BindSourceKinds } from './mount-steps.js';
export type { Step } from '../../native/step.js';
