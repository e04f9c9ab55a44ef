"""A source function: turn a payment provider's `invoice.paid` webhooks into track events."""

import json


def on_request(request, settings):
    payload = json.loads(request["body"])
    if payload.get("type") != "invoice.paid":
        log("ignored", payload.get("type"))
        return []
    invoice = payload["data"]["object"]
    return [{
        "type": "track",
        "event": settings.get("eventName", "Invoice Paid"),
        "messageId": payload["id"],
        "userId": invoice["customer"],
        "properties": {
            "invoice_id": invoice["id"],
            "amount": invoice["amount_paid"] / 100,
            "currency": invoice["currency"].upper(),
        },
        "context": {"traits": {"email": invoice.get("customer_email")}},
    }]
