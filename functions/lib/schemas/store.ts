import { z } from 'zod';
import { CentsSchema, IsoTimeSchema, SkuSchema, StoreIdSchema } from './order';
import { PartnerIdSchema, PartnerStoreIdSchema } from './partners/index';

export const STORE_STATUSES = ['online', 'offline', 'paused'] as const;
export const StoreStatusSchema = z.enum(STORE_STATUSES);
export type StoreStatus = z.infer<typeof StoreStatusSchema>;

/** Who changed a store or an item (ARCHITECTURE section 7). */
export const CHANGED_BY = ['operator', 'pos-health', 'schedule'] as const;
export const ChangedBySchema = z.enum(CHANGED_BY);
export type ChangedBy = z.infer<typeof ChangedBySchema>;

export const MenuItemSchema = z.object({
  sku: SkuSchema,
  name: z.string().min(1).max(200),
  price: CentsSchema.nonnegative(),
  available: z.boolean(),
  /** An 86 with `until` ends by itself at that time (changedBy `schedule`). */
  until: IsoTimeSchema.optional(),
  /** Grows with every availability change of this item (absent: 0). */
  version: z.number().int().nonnegative().optional(),
});
export type MenuItem = z.infer<typeof MenuItemSchema>;

/** A store as kept in StoresTable (`pk = STORE#<storeId>`, the key itself not included). */
export const BusySchema = z.strictObject({
  extraPrepMinutes: z.number().int().min(1).max(120),
  until: IsoTimeSchema.optional(),
});
export const ThrottleSchema = z.strictObject({
  ordersPerWindow: z.number().int().min(1).max(1000),
  windowMinutes: z.number().int().min(5).max(120),
});

/**
 * The versions one push carried. `changes` is the store version plus every item version: each
 * change grows exactly one of them by one, so it orders any two reads of the same store.
 */
export const PartnerSyncSchema = z.object({
  version: z.number().int().nonnegative(),
  itemVersions: z.record(z.string(), z.number().int().nonnegative()),
  changes: z.number().int().nonnegative(),
  at: IsoTimeSchema,
});
export type PartnerSync = z.infer<typeof PartnerSyncSchema>;

export const StoreSchema = z.object({
  storeId: StoreIdSchema,
  name: z.string().min(1).max(200),
  status: StoreStatusSchema,
  /** Why the store is paused or offline, in words a store manager reads. */
  reason: z.string().min(1).max(200).optional(),
  /** A pause with `until` ends by itself at that time (changedBy `schedule`). */
  until: IsoTimeSchema.optional(),
  changedBy: ChangedBySchema.optional(),
  /** Grows with every status or busy change of the store (absent: 0). */
  version: z.number().int().nonnegative().optional(),
  busy: BusySchema.optional(),
  throttle: ThrottleSchema.optional(),
  menu: z.array(MenuItemSchema),
  /**
   * Minutes the kitchen needs before pickup; a scheduled order is released to the kitchen this long
   * before its pickup time. Absent: DEFAULT_PREP_MINUTES (15, domain/pickup.ts `prepMinutesOf`).
   */
  prepMinutes: z.number().int().min(0).max(240).optional(),
  /** POS failures in a row for this store (probes and orders that ended FAILED POS_UNAVAILABLE); a success resets it. */
  posHealth: z.object({ consecutiveFailures: z.number().int().nonnegative() }).optional(),
  /** The store's id on each partner it sells through; a store need not be on every partner. */
  partnerStoreIds: z.partialRecord(PartnerIdSchema, PartnerStoreIdSchema),
  /**
   * What the partner sync last pushed to each partner: the versions of the store as it read it.
   * Never lowered; a store whose versions are past it still owes that partner a push.
   */
  partnerSync: z.partialRecord(PartnerIdSchema, PartnerSyncSchema).optional(),
});
export type Store = z.infer<typeof StoreSchema>;

/** The answer of `GET /stores/{storeId}` and of the store PUTs/DELETEs (ARCHITECTURE section 7). */
export const StoreViewSchema = StoreSchema.pick({
  storeId: true,
  name: true,
  status: true,
  reason: true,
  until: true,
  changedBy: true,
  busy: true,
  throttle: true,
  menu: true,
}).extend({ version: z.number().int().nonnegative() });
export type StoreView = z.infer<typeof StoreViewSchema>;

/** `PUT /stores/{storeId}/status` — `until` only with `paused`, and in the future. */
export const SetStoreStatusRequestSchema = z.strictObject({
  status: StoreStatusSchema,
  reason: z.string().min(1).max(200).optional(),
  until: IsoTimeSchema.optional(),
});
export type SetStoreStatusRequest = z.infer<typeof SetStoreStatusRequestSchema>;

/** `PUT /stores/{storeId}/items/{sku}` — `{"available":false,"until"?}` 86es an item. */
export const SetItemAvailabilityRequestSchema = z.strictObject({
  available: z.boolean(),
  until: IsoTimeSchema.optional(),
});
export type SetItemAvailabilityRequest = z.infer<typeof SetItemAvailabilityRequestSchema>;

/** `PUT /stores/{storeId}/busy` */
export const SetBusyRequestSchema = BusySchema;
/** `PUT /stores/{storeId}/throttle` */
export const SetThrottleRequestSchema = ThrottleSchema;
