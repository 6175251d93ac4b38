"""The x-rule kinds, one module each (with its helper partial, if any, in a ``.tpl`` file of the same name).

Each module holds one ``KIND`` (gce_values.checks.rulekind.Kind); gce_values.checks.xrules finds them
here by listing this folder, so adding a kind is adding a module (CONTRIBUTING.md, "Adding a rule kind").
"""
