"""soapkit: call SuperOffice CRM Online SOAP agents from Python."""

__version__ = "0.1.0"
