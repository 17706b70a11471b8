"use client";
import { useMutation } from "@tanstack/react-query";
import { errorMessage } from "@/components/errors";
import { useTRPC } from "@/components/trpc";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { useToast } from "@/components/ui/toast";

/** The explicit accept step for a director whose host key the console has never seen. */
export function TrustHostKeyDialog({
  directorId,
  fingerprint,
  replaces = null,
  open,
  onOpenChange,
  onTrusted,
}: {
  directorId: string;
  fingerprint: string;
  /** The key trusted now, which this one replaces; null (the default) when there is none. */
  replaces?: string | null;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onTrusted?: () => void;
}) {
  const trpc = useTRPC();
  const { toast } = useToast();
  const trust = useMutation(
    trpc.hostKeys.trust.mutationOptions({
      onSuccess: () => {
        toast({ title: `Host key of ${directorId} trusted`, description: fingerprint });
        onOpenChange(false);
        onTrusted?.();
      },
    }),
  );
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={`Unknown host key for ${directorId}`}
      description="The console has never seen this director's SSH host key. Compare the fingerprint with the one the director prints (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) before trusting it."
      footer={
        <>
          <Button variant="outline" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button
            disabled={trust.isPending}
            onClick={() => trust.mutate({ directorId, fingerprint, replaces })}
          >
            {trust.isPending ? "Trusting…" : "Trust this key"}
          </Button>
        </>
      }
    >
      <p className="text-xs text-muted-foreground">Fingerprint</p>
      <pre className="mt-1 rounded bg-muted px-2 py-1 font-mono text-sm" data-testid="fingerprint">
        {fingerprint}
      </pre>
      {trust.error && (
        <Alert className="mt-2">
          <AlertDescription>{errorMessage(trust.error)}</AlertDescription>
        </Alert>
      )}
    </Dialog>
  );
}
