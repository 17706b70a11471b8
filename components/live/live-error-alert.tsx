import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";

/** The push stream itself failed (not a director): every live view says so the same way. */
export function LiveErrorAlert({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <Alert>
      <AlertTitle>Live updates failed</AlertTitle>
      <AlertDescription>{error}</AlertDescription>
    </Alert>
  );
}
