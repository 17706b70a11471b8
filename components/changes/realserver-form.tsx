"use client";
import { useState } from "react";
import {
  FORWARD_METHODS,
  formatServiceKey,
  type ForwardMethod,
  type RealserverRule,
  type ServiceKey,
} from "@/server/ipvs/model";
import { changeSchema, type ChangeInput } from "@/server/ipvs/planner";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select } from "@/components/ui/input";
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
  const [touched, setTouched] = useState<Record<string, boolean>>({});

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
  const show = (k: string) => (touched[k] ? (errors[k] ?? null) : null);
  const touch = (k: string) => setTouched((t) => ({ ...t, [k]: true }));
  const otherErrors = Object.entries(errors).filter(
    ([k]) =>
      !["address", "port", "weight", "upperThreshold", "lowerThreshold", "forward"].includes(k),
  );

  return (
    <Dialog
      open
      onOpenChange={onOpenChange}
      title={existing ? `Edit realserver ${existing.address}:${existing.port}` : "Add realserver"}
      description={`to ${formatServiceKey(service)}`}
      footer={
        <>
          <Button variant="outline" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" form="realserver-form" disabled={!parsed.success}>
            Review commands
          </Button>
        </>
      }
    >
      <form
        id="realserver-form"
        noValidate
        className="grid grid-cols-3 gap-x-3"
        onSubmit={(e) => {
          e.preventDefault();
          if (parsed.success) onSubmit(change);
        }}
      >
        <Field label="Address" error={show("address")} className="col-span-2">
          {(p) => (
            <Input
              {...p}
              name="address"
              data-autofocus
              disabled={Boolean(existing)}
              value={address}
              onChange={(e) => {
                setAddress(e.target.value);
                touch("address");
              }}
              placeholder="10.10.0.14"
              autoComplete="off"
            />
          )}
        </Field>
        <Field label="Port" error={show("port")}>
          {(p) => (
            <Input
              {...p}
              name="port"
              inputMode="numeric"
              disabled={Boolean(existing)}
              value={port}
              onChange={(e) => {
                setPort(e.target.value);
                touch("port");
              }}
            />
          )}
        </Field>
        <Field label="Forwarding" error={show("forward")}>
          {(p) => (
            <Select
              {...p}
              name="forward"
              value={forward}
              onChange={(e) => {
                setForward(e.target.value as ForwardMethod);
                touch("forward");
                touch("address");
              }}
            >
              {FORWARD_METHODS.map((m) => (
                <option key={m} value={m}>
                  {FORWARD_LABEL[m]}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Weight" error={show("weight")} className="col-span-2">
          {(p) => (
            <Input
              {...p}
              name="weight"
              inputMode="numeric"
              value={weight}
              onChange={(e) => {
                setWeight(e.target.value);
                touch("weight");
              }}
            />
          )}
        </Field>
        <Field label="Upper threshold (-x, 0 = none)" error={show("upperThreshold")}>
          {(p) => (
            <Input
              {...p}
              name="upperThreshold"
              inputMode="numeric"
              value={upper}
              onChange={(e) => {
                setUpper(e.target.value);
                touch("upperThreshold");
              }}
            />
          )}
        </Field>
        <Field label="Lower threshold (-y, 0 = none)" error={show("lowerThreshold")}>
          {(p) => (
            <Input
              {...p}
              name="lowerThreshold"
              inputMode="numeric"
              value={lower}
              onChange={(e) => {
                setLower(e.target.value);
                touch("lowerThreshold");
              }}
            />
          )}
        </Field>
        {otherErrors.length > 0 && Object.keys(touched).length > 0 && (
          <ul className="col-span-3 text-xs text-danger">
            {otherErrors.map(([k, m]) => (
              <li key={k}>{m}</li>
            ))}
          </ul>
        )}
      </form>
    </Dialog>
  );
}
