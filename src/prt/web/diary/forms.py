"""The page's rating form: the same fields as the API, the choices from the pain_nrs definition."""

from __future__ import annotations

from django import forms

from prt.web.diary import scale


class RatingForm(forms.Form):
    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    date = forms.DateField(widget=forms.HiddenInput, input_formats=["%Y-%m-%d"])
    rating = forms.TypedChoiceField(choices=[(v, str(v)) for v in scale.values()], coerce=int,
                                    widget=forms.RadioSelect,
                                    error_messages={"required": "Choose a number from %(lo)d to %(hi)d.",
                                                    "invalid_choice": "Choose a number from %(lo)d to %(hi)d."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        lo, hi = scale.bounds()
        for key, text in self.fields["rating"].error_messages.items():
            self.fields["rating"].error_messages[key] = text % {"lo": lo, "hi": hi}
