import { useEffect, useState } from "preact/hooks";
import { specEnums } from "./spec.js";

/** One checkbox per permission the spec names (`name="permissions"`), the given ones checked. */
export function PermissionChecks({ legend, checked }: { legend: string; checked: readonly string[] }) {
  const [permissions, setPermissions] = useState<string[]>([]);
  useEffect(() => {
    void specEnums().then((enums) => setPermissions(enums.permissions));
  }, []);
  return (
    <fieldset>
      <legend>{legend}</legend>
      {permissions.map((permission) => (
        <label class="check" key={permission}>
          <input type="checkbox" name="permissions" value={permission} defaultChecked={checked.includes(permission)} />{" "}
          {permission}
        </label>
      ))}
    </fieldset>
  );
}
