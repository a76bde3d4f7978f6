/** The two stand-ins of the local cloud: the delivery partners (4010) and the store POS (4020). */
export {
  devPartnerSecrets,
  PARTNER_SHAPES,
  type PartnerOrder,
  type PartnerSecrets,
  type PartnerSimulator,
  type PartnerSimulatorOptions,
  type PartnerSimulatorState,
  type SignatureMode,
  startPartnerSimulator,
} from './partner/index';
export {
  DEV_POS_API_KEY,
  type PosOrder,
  type PosOrderStatus,
  type PosSimulator,
  type PosSimulatorOptions,
  type PosSimulatorState,
  startPosSimulator,
} from './pos/index';
