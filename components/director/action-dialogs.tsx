import type { ChangeInput } from "@/server/ipvs/change";
import { ChangeDialog } from "@/components/changes/change-dialog";
import { DrainDialog } from "@/components/changes/drain-dialog";
import {
  LastingDialog,
  LastingUndrainDialog,
  RefusedDialog,
} from "@/components/changes/lasting-dialog";
import { RealserverFormDialog } from "@/components/changes/realserver-form";
import { ServiceFormDialog } from "@/components/changes/service-form";
import { TrustHostKeyDialog } from "@/components/changes/trust-dialog";
import type { Action } from "./actions";

/** The dialog for the action the operator picked; every one closes back to the page. */
export function ActionDialogs({
  action,
  directorId,
  clusterId,
  onOpenChange,
  onReview,
  onTrusted,
}: {
  action: Action | null;
  directorId: string;
  clusterId: string | null;
  onOpenChange: (open: boolean) => void;
  onReview: (change: ChangeInput, title: string) => void;
  onTrusted: () => void;
}) {
  return (
    <>
      {action?.kind === "change" && clusterId && (
        <ChangeDialog
          clusterId={clusterId}
          change={action.change}
          title={action.title}
          applyLabel={action.applyLabel}
          destructive={action.destructive}
          onOpenChange={onOpenChange}
        />
      )}
      {action?.kind === "realserverForm" && (
        <RealserverFormDialog
          service={action.service}
          existing={action.existing}
          onOpenChange={onOpenChange}
          onSubmit={(change) =>
            onReview(
              change,
              change.kind === "addRealserver" || change.kind === "editRealserver"
                ? `${change.kind === "addRealserver" ? "Add" : "Edit"} realserver ${change.realserver.address}:${String(change.realserver.port)}`
                : "Change realserver",
            )
          }
        />
      )}
      {action?.kind === "serviceForm" && (
        <ServiceFormDialog
          existing={action.existing}
          onOpenChange={onOpenChange}
          onSubmit={(change) =>
            onReview(
              change,
              change.kind === "addService" ? "Add virtual service" : "Edit virtual service",
            )
          }
        />
      )}
      {action?.kind === "drain" && clusterId && (
        <DrainDialog
          clusterId={clusterId}
          realserver={action.realserver}
          onOpenChange={onOpenChange}
        />
      )}
      {action?.kind === "lasting" && clusterId && (
        <LastingDialog
          clusterId={clusterId}
          change={action.change}
          title={action.title}
          onOpenChange={onOpenChange}
        />
      )}
      {action?.kind === "lastingUndrain" && clusterId && (
        <LastingUndrainDialog
          clusterId={clusterId}
          service={action.service}
          realserver={action.realserver}
          onOpenChange={onOpenChange}
        />
      )}
      {action?.kind === "refused" && (
        <RefusedDialog title={action.title} message={action.message} onOpenChange={onOpenChange} />
      )}
      {action?.kind === "trust" && (
        <TrustHostKeyDialog
          open
          directorId={directorId}
          fingerprint={action.fingerprint}
          onOpenChange={onOpenChange}
          onTrusted={onTrusted}
        />
      )}
    </>
  );
}
