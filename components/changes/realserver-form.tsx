"use client";
import { useState } from "react";
import {
  FORWARD_METHODS,
  formatServiceKey,
  type ForwardMethod,
  type RealserverRule,
  type ServiceKey,
} from "@/server/ipvs/model";
import { changeSchema, type ChangeInput } from "@/server/ipvs/change";
import { ChangeFormDialog, SelectField, TextField, useTouched } from "./fields";
import { fieldErrors, parseWhole } from "./form-utils";

const FORWARD_LABEL: Record<ForwardMethod, string> = {
  masq: "masq (NAT, -m)",
  route: "route (direct, -g)",
  tunnel: "tunnel (IPIP, -i)",
};

/**
 * Add or edit a realserver. Validated on every keystroke with the planner's change schema (the
 * model's field schemas plus the cross-field rules), so what the button submits is exactly
 * what the server will accept.
 */
export function RealserverFormDialog({
  service,
  existing,
  onOpenChange,
  onSubmit,
}: {
  service: ServiceKey;
  existing?: RealserverRule;
  onOpenChange: (open: boolean) => void;
  onSubmit: (change: ChangeInput) => void;
}) {
  const [address, setAddress] = useState(existing?.address ?? "");
  const [port, setPort] = useState(
    existing ? String(existing.port) : service.kind === "fwm" ? "" : String(service.port),
  );
  const [forward, setForward] = useState<ForwardMethod>(existing?.forward ?? "masq");
  const [weight, setWeight] = useState(existing ? String(existing.weight) : "1");
  const [upper, setUpper] = useState(existing ? String(existing.upperThreshold) : "0");
  const [lower, setLower] = useState(existing ? String(existing.lowerThreshold) : "0");

  const change: ChangeInput = {
    kind: existing ? "editRealserver" : "addRealserver",
    service,
    realserver: {
      address,
      port: parseWhole(port),
      forward,
      weight: parseWhole(weight),
      upperThreshold: parseWhole(upper),
      lowerThreshold: parseWhole(lower),
      tunnel:
        forward === "tunnel"
          ? (existing?.tunnel ?? { type: "ipip", port: null, noChecksum: false })
          : null,
    },
  };
  const parsed = changeSchema.safeParse(change);
  const errors = fieldErrors(parsed.error, ["realserver"]);
  const { show, edit, anyTouched } = useTouched(errors);
  const otherErrors = Object.entries(errors).filter(
    ([k]) =>
      !["address", "port", "weight", "upperThreshold", "lowerThreshold", "forward"].includes(k),
  );

  return (
    <ChangeFormDialog
      formId="realserver-form"
      className="grid grid-cols-3 gap-x-3"
      title={existing ? `Edit realserver ${existing.address}:${existing.port}` : "Add realserver"}
      description={`to ${formatServiceKey(service)}`}
      valid={parsed.success}
      onOpenChange={onOpenChange}
      onSubmit={() => onSubmit(change)}
    >
      <TextField
        label="Address"
        error={show("address")}
        className="col-span-2"
        name="address"
        data-autofocus
        disabled={Boolean(existing)}
        value={address}
        onValueChange={edit(setAddress, "address")}
        placeholder="10.10.0.14"
        autoComplete="off"
      />
      <TextField
        label="Port"
        error={show("port")}
        name="port"
        inputMode="numeric"
        disabled={Boolean(existing)}
        value={port}
        onValueChange={edit(setPort, "port")}
      />
      <SelectField
        label="Forwarding"
        error={show("forward")}
        name="forward"
        value={forward}
        options={FORWARD_METHODS}
        optionLabel={(m) => FORWARD_LABEL[m]}
        onValueChange={edit(setForward, "forward", "address")}
      />
      <TextField
        label="Weight"
        error={show("weight")}
        className="col-span-2"
        name="weight"
        inputMode="numeric"
        value={weight}
        onValueChange={edit(setWeight, "weight")}
      />
      <TextField
        label="Upper threshold (-x, 0 = none)"
        error={show("upperThreshold")}
        name="upperThreshold"
        inputMode="numeric"
        value={upper}
        onValueChange={edit(setUpper, "upperThreshold")}
      />
      <TextField
        label="Lower threshold (-y, 0 = none)"
        error={show("lowerThreshold")}
        name="lowerThreshold"
        inputMode="numeric"
        value={lower}
        onValueChange={edit(setLower, "lowerThreshold")}
      />
      {otherErrors.length > 0 && anyTouched && (
        <ul className="col-span-3 text-xs text-danger">
          {otherErrors.map(([k, m]) => (
            <li key={k}>{m}</li>
          ))}
        </ul>
      )}
    </ChangeFormDialog>
  );
}
