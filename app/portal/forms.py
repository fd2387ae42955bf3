"""Portal forms (Flask-WTF: CSRF on each); the node form is built from the adapter's fields."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, FieldList, FormField, IntegerField, PasswordField,
                     SelectField, StringField, SubmitField)
from wtforms.validators import (DataRequired, Length, NumberRange, Optional, Regexp,
                                ValidationError)
from wtforms import Form
from wtforms.fields.choices import SelectChoice

EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter an email address.")

def choices(pairs) -> list[SelectChoice]:
    """WTForms 3.3 deprecates (value, label) tuples."""
    return [SelectChoice(value, label) for value, label in pairs]


HHMM = Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message="Use a time of day like 08:30.")


def node_form_class(fields: list[dict], editing: bool):
    """A form class for one platform: name plus its settings_fields.

    Secret fields become credentials: password inputs that never show a stored value; when
    editing, a blank secret keeps what is stored.
    """
    attrs = {"name": StringField("Name", validators=[DataRequired(), Length(max=120)])}
    for f in fields:
        label, name = f.get("label") or f["name"], f["name"]
        required = f.get("required") and not (editing and f.get("secret"))
        checks = [DataRequired()] if required else [Optional()]
        kind = f.get("type", "text")
        if f.get("secret"):
            field = PasswordField(label, validators=checks + [Length(max=500)])
        elif kind == "int":
            field = IntegerField(label, validators=checks + [NumberRange(min=0)],
                                 default=f.get("default"))
        elif kind == "bool":
            field = BooleanField(label, default=bool(f.get("default")))
        elif kind == "choice":
            field = SelectField(label, choices=choices((c, c) for c in f.get("choices", [])),
                                default=f.get("default"))
        else:
            field = StringField(label, validators=checks + [Length(max=500)],
                                default=f.get("default"))
        attrs["f_" + name] = field
    attrs["submit"] = SubmitField("Save")
    return type("NodeForm", (FlaskForm,), attrs)


def split_node_form(form, fields: list[dict]) -> tuple[dict, dict]:
    """(settings, credentials) from a validated node form."""
    settings, credentials = {}, {}
    for f in fields:
        value = getattr(form, "f_" + f["name"]).data
        (credentials if f.get("secret") else settings)[f["name"]] = value
    return settings, credentials


class ConnectorForm(FlaskForm):
    mode = SelectField("Mode", choices=choices([("full", "full: all product data"),
                                        ("quantity", "quantity only")]))
    enabled = BooleanField("Enabled")
    buffer = IntegerField("Buffer (units kept back on this channel)",
                          validators=[Optional(), NumberRange(min=0, max=100000)])
    max_quantity = IntegerField("Never offer more than",
                                validators=[Optional(), NumberRange(min=0, max=10_000_000)])
    percentage = IntegerField("Offer this percentage of what is free",
                              validators=[Optional(), NumberRange(min=1, max=100)])
    order_filter = SelectField("Orders sent to the ERP", choices=choices([
        ("paid", "only paid orders (others are held until paid)"), ("all", "all orders")]))
    missing_products = SelectField("Products missing from a full file", choices=choices([
        ("leave", "leave them as they are"), ("disable", "disable them")]))
    overlap_seconds = IntegerField("Re-read overlap (seconds)",
                                   validators=[Optional(), NumberRange(min=0, max=86400)])
    submit = SubmitField("Save connector")

    KIND_FIELDS = {"product_export": ("buffer", "max_quantity", "percentage"),
                   "order_export": ("order_filter",),
                   "product_import": ("missing_products",),
                   "order_import": ("overlap_seconds",)}


class NewProcedureForm(FlaskForm):
    template = SelectField("Start from", choices=[])
    name = StringField("Name (optional for templates)", validators=[Length(max=120)])
    submit = SubmitField("Create procedure")

    def validate_name(self, field):
        if not self.template.data and not (field.data or "").strip():
            raise ValidationError("An empty procedure needs a name.")


class ProcedureForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    enabled = BooleanField("Enabled")
    failure_policy = SelectField("When a step fails", choices=choices([
        ("stop", "stop: skip the remaining steps"),
        ("continue", "continue with the next steps")]))
    schedule_kind = SelectField("Schedule", choices=choices([
        ("none", "none (on demand, ERP or trigger URL)"), ("interval", "every N minutes"),
        ("cron", "cron expression")]))
    interval_minutes = IntegerField("Every (minutes)", validators=[Optional(),
                                                                   NumberRange(min=1, max=10080)])
    cron = StringField("Cron expression", validators=[Optional(), Length(max=120)])
    window_start = StringField("Only between (start, HH:MM)", validators=[Optional(), HHMM])
    window_end = StringField("and (end, HH:MM)", validators=[Optional(), HHMM])
    timezone = StringField("Time zone", validators=[DataRequired(), Length(max=64)])
    submit = SubmitField("Save procedure")


class AddStepForm(FlaskForm):
    connector_id = SelectField("Connector", coerce=int, choices=[])
    submit = SubmitField("Add step")


class OrderLineForm(Form):
    sku = StringField("SKU", validators=[Optional(), Length(max=64)])
    quantity = IntegerField("Quantity", validators=[Optional(), NumberRange(min=1, max=1000)])


class SandboxOrderForm(FlaskForm):
    lines = FieldList(FormField(OrderLineForm), min_entries=3, max_entries=10)
    paid = BooleanField("Paid", default=True)
    email = EmailField("Customer email", default="test.customer@example.com",
                       validators=[DataRequired(), EMAIL,
                                   Length(max=254)])
    submit = SubmitField("Place test order")

    def validate_lines(self, field):
        if not any(e.form.sku.data and e.form.quantity.data for e in field.entries):
            raise ValidationError("Enter at least one SKU with a quantity.")


ROLE_CHOICES = [("viewer", "viewer: can look"), ("admin", "admin: can change settings and run"),
                ("owner", "owner: also manages the team")]


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), EMAIL,
                                            Length(max=254)])
    role = SelectField("Role", choices=choices(ROLE_CHOICES), default="viewer")
    submit = SubmitField("Invite")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=choices(ROLE_CHOICES))
    submit = SubmitField("Change role")
