"use client";
import { useState } from "react";
import {
  PROTOCOLS,
  SCHED_FLAGS,
  SCHEDULERS,
  formatServiceKey,
  type SchedFlag,
  type Scheduler,
  type ServiceRule,
} from "@/server/ipvs/model";
import { changeSchema, type ChangeInput } from "@/server/ipvs/change";
import { Checkbox } from "@/components/ui/input";
import { ChangeFormDialog, SelectField, TextField, useTouched } from "./fields";
import { fieldErrors, parseWhole } from "./form-utils";

type Kind = (typeof PROTOCOLS)[number] | "fwm";

/** Add a virtual service, or edit one (the key stays; scheduler, persistence and flags change). */
export function ServiceFormDialog({
  existing,
  onOpenChange,
  onSubmit,
}: {
  existing?: ServiceRule;
  onOpenChange: (open: boolean) => void;
  onSubmit: (change: ChangeInput) => void;
}) {
  const key = existing?.key;
  const [kind, setKind] = useState<Kind>(key?.kind ?? "tcp");
  const [address, setAddress] = useState(key && key.kind !== "fwm" ? key.address : "");
  const [port, setPort] = useState(key && key.kind !== "fwm" ? String(key.port) : "");
  const [mark, setMark] = useState(key?.kind === "fwm" ? String(key.mark) : "");
  const [scheduler, setScheduler] = useState<Scheduler>(existing?.scheduler ?? "wlc");
  const [persistent, setPersistent] = useState(Boolean(existing?.persistence));
  const [timeout, setTimeoutText] = useState(
    existing?.persistence ? String(existing.persistence.timeout) : "300",
  );
  const [ops, setOps] = useState(existing?.ops ?? false);
  const [flags, setFlags] = useState<SchedFlag[]>(existing?.schedFlags ?? []);

  const serviceKey =
    kind === "fwm"
      ? {
          kind,
          mark: parseWhole(mark),
          family: key?.kind === "fwm" ? key.family : ("inet" as const),
        }
      : { kind, address, port: parseWhole(port) };
  const rule = {
    key: serviceKey,
    scheduler,
    persistence: persistent
      ? { timeout: parseWhole(timeout), netmask: existing?.persistence?.netmask ?? null }
      : null,
    ops,
    schedFlags: flags,
    pe: existing?.pe ?? null,
  };
  const change: ChangeInput = existing
    ? { kind: "editService", service: rule }
    : { kind: "addService", service: rule, realservers: [] };
  const parsed = changeSchema.safeParse(change);
  const errors = fieldErrors(parsed.error, ["service"]);
  const { show, touch, edit, anyTouched } = useTouched(errors);
  const known = new Set([
    "key.address",
    "key.port",
    "key.mark",
    "scheduler",
    "persistence.timeout",
  ]);
  const other = Object.entries(errors).filter(([k]) => !known.has(k));

  return (
    <ChangeFormDialog
      formId="service-form"
      className="grid grid-cols-4 gap-x-3"
      title={existing ? `Edit ${formatServiceKey(existing.key)}` : "Add virtual service"}
      valid={parsed.success}
      onOpenChange={onOpenChange}
      onSubmit={() => onSubmit(change)}
    >
      <SelectField<Kind>
        label="Protocol"
        name="protocol"
        data-autofocus
        disabled={Boolean(existing)}
        value={kind}
        options={PROTOCOLS}
        optionLabel={(x) => x.toUpperCase()}
        onValueChange={setKind}
      >
        <option value="fwm">FWM (firewall mark)</option>
      </SelectField>
      {kind === "fwm" ? (
        <TextField
          label="Mark"
          error={show("key.mark")}
          className="col-span-3"
          name="mark"
          inputMode="numeric"
          disabled={Boolean(existing)}
          value={mark}
          onValueChange={edit(setMark, "key.mark")}
        />
      ) : (
        <>
          <TextField
            label="Virtual IP"
            error={show("key.address")}
            className="col-span-2"
            name="address"
            disabled={Boolean(existing)}
            value={address}
            onValueChange={edit(setAddress, "key.address")}
            placeholder="203.0.113.10"
          />
          <TextField
            label="Port"
            error={show("key.port")}
            name="port"
            inputMode="numeric"
            disabled={Boolean(existing)}
            value={port}
            onValueChange={edit(setPort, "key.port")}
          />
        </>
      )}
      <SelectField
        label="Scheduler"
        error={show("scheduler")}
        name="scheduler"
        value={scheduler}
        options={SCHEDULERS}
        onValueChange={edit(setScheduler, "scheduler")}
      />
      <div className="col-span-1 flex flex-col justify-center gap-1 pb-4 text-xs">
        <label className="flex items-center gap-1.5">
          <Checkbox
            name="persistent"
            checked={persistent}
            onChange={(e) => {
              setPersistent(e.currentTarget.checked);
              touch("persistence.timeout");
            }}
          />
          persistent (-p)
        </label>
        <label className="flex items-center gap-1.5">
          <Checkbox name="ops" checked={ops} onChange={(e) => setOps(e.currentTarget.checked)} />
          one-packet (-o)
        </label>
      </div>
      <TextField
        label="Persistence timeout (s)"
        error={persistent ? show("persistence.timeout") : null}
        className="col-span-2"
        name="timeout"
        inputMode="numeric"
        disabled={!persistent}
        value={timeout}
        onValueChange={edit(setTimeoutText, "persistence.timeout")}
      />
      <fieldset className="col-span-4 flex flex-wrap gap-3 text-xs">
        <legend className="mb-1 font-medium text-muted-foreground">Scheduler flags (-b)</legend>
        {SCHED_FLAGS.map((f) => (
          <label key={f} className="flex items-center gap-1.5">
            <Checkbox
              checked={flags.includes(f)}
              onChange={(e) => {
                const on = e.currentTarget.checked;
                setFlags((xs) => (on ? [...xs, f] : xs.filter((x) => x !== f)));
                touch("schedFlags");
              }}
            />
            {f}
          </label>
        ))}
      </fieldset>
      {other.length > 0 && anyTouched && (
        <ul className="col-span-4 mt-2 text-xs text-danger" role="alert">
          {other.map(([k, m]) => (
            <li key={k}>{m}</li>
          ))}
        </ul>
      )}
    </ChangeFormDialog>
  );
}
