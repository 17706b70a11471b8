"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "@/components/errors";
import { useTRPC } from "@/components/trpc";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/input";
import { useToast } from "@/components/ui/toast";

/**
 * An admin closes a drain the console cannot finish, without touching any director; the
 * reason goes to the audit log (drains.abandon).
 */
export function AbandonDrainDialog({
  drainId,
  label,
  onClose,
}: {
  drainId: number;
  label: string;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const [reason, setReason] = useState("");
  const abandon = useMutation(
    trpc.drains.abandon.mutationOptions({
      onSuccess: async () => {
        toast({ title: `Drain of ${label} abandoned`, description: reason.trim() });
        await queryClient.invalidateQueries({ queryKey: trpc.drains.get.queryKey({ drainId }) });
        onClose();
      },
    }),
  );
  const tooShort = reason.trim().length < 3;
  return (
    <Dialog
      open
      onOpenChange={(open) => {
        if (!open) onClose();
      }}
      title={`Abandon the drain of ${label}`}
      description="The drain is closed as abandoned and nothing runs on any director: the weights stay as they are now. Only an admin can do this; the reason is kept in the audit log."
      footer={
        <>
          <Button variant="outline" onClick={onClose}>
            Cancel
          </Button>
          <Button
            variant="destructive"
            disabled={tooShort || abandon.isPending}
            onClick={() => abandon.mutate({ drainId, reason: reason.trim() })}
          >
            {abandon.isPending ? "Abandoning…" : "Abandon drain"}
          </Button>
        </>
      }
    >
      <Field label="Reason" hint="At least 3 characters, e.g. the director is being rebuilt">
        {(ids) => (
          <Input
            {...ids}
            name="reason"
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        )}
      </Field>
      {abandon.error && (
        <Alert className="mt-2">
          <AlertDescription>{errorMessage(abandon.error)}</AlertDescription>
        </Alert>
      )}
    </Dialog>
  );
}
