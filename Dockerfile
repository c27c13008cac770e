# The production image: the app with gunicorn, Celery and WeasyPrint's system libraries.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint renders PDFs with Pango and HarfBuzz; fonts for invoices and quotes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
      fonts-dejavu-core fonts-liberation shared-mime-info \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 oms
WORKDIR /app

COPY pyproject.toml ./
COPY oms ./oms
COPY customers ./customers
COPY orders ./orders
COPY quotes ./quotes
COPY invoicing ./invoicing
RUN pip install .

COPY . .
# Static files are collected into the image and served by WhiteNoise.
RUN DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
 && mkdir -p /app/var/media && chown -R oms:oms /app/var

USER oms
EXPOSE 8000
CMD ["gunicorn", "oms.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
