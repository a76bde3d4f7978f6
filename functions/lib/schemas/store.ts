import { z } from 'zod';
import { CentsSchema, SkuSchema, StoreIdSchema } from './order';
import { PartnerIdSchema, PartnerStoreIdSchema } from './partners/index';

export const STORE_STATUSES = ['online', 'offline', 'paused'] as const;
export const StoreStatusSchema = z.enum(STORE_STATUSES);
export type StoreStatus = z.infer<typeof StoreStatusSchema>;

export const MenuItemSchema = z.object({
  sku: SkuSchema,
  name: z.string().min(1).max(200),
  price: CentsSchema.nonnegative(),
  available: z.boolean(),
});
export type MenuItem = z.infer<typeof MenuItemSchema>;

/** A store as kept in StoresTable (`pk = STORE#<storeId>`, the key itself not included). */
export const StoreSchema = z.object({
  storeId: StoreIdSchema,
  name: z.string().min(1).max(200),
  status: StoreStatusSchema,
  menu: z.array(MenuItemSchema),
  /**
   * Minutes the kitchen needs before pickup; a scheduled order is released to the kitchen this long
   * before its pickup time. Absent: DEFAULT_PREP_MINUTES (15, domain/pickup.ts `prepMinutesOf`).
   */
  prepMinutes: z.number().int().min(0).max(240).optional(),
  /** The store's id on each partner it sells through; a store need not be on every partner. */
  partnerStoreIds: z.partialRecord(PartnerIdSchema, PartnerStoreIdSchema),
});
export type Store = z.infer<typeof StoreSchema>;

/** The answer of `GET /stores/{storeId}` and of the two PUTs. */
export const StoreViewSchema = StoreSchema.pick({ storeId: true, name: true, status: true, menu: true });
export type StoreView = z.infer<typeof StoreViewSchema>;

/** `PUT /stores/{storeId}/status` */
export const SetStoreStatusRequestSchema = z.strictObject({ status: StoreStatusSchema });
export type SetStoreStatusRequest = z.infer<typeof SetStoreStatusRequestSchema>;

/** `PUT /stores/{storeId}/items/{sku}` — `{"available":false}` 86es an item. */
export const SetItemAvailabilityRequestSchema = z.strictObject({ available: z.boolean() });
export type SetItemAvailabilityRequest = z.infer<typeof SetItemAvailabilityRequestSchema>;
