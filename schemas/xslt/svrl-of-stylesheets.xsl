<?xml version="1.0" encoding="UTF-8"?>
<!--
  qerds-ap: runs every compiled Schematron stylesheet named in $stylesheets (file: URIs, one per line) on the input
  document in one Saxon process, and keeps only what the SVRL reports against the document: each failed-assert and
  successful-report, with its stylesheet. One JVM per document instead of one per stylesheet, and an answer whose
  size grows with the findings, not with the document (fired-rule elements are dropped).
  XSLT 3.0: fn:transform, available in Saxon-HE 9.9 and later.
-->
<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:svrl="http://purl.oclc.org/dsdl/svrl"
  exclude-result-prefixes="xs">
  <xsl:param name="stylesheets" as="xs:string" required="yes"/>
  <xsl:output method="xml" indent="no" encoding="UTF-8"/>
  <xsl:template match="/">
    <xsl:variable name="document" select="."/>
    <svrl-reports>
      <xsl:for-each select="tokenize($stylesheets, '\n')[normalize-space()]">
        <report stylesheet="{.}">
          <xsl:sequence
            select="transform(map { 'stylesheet-location': ., 'source-node': $document })?output
                    //(svrl:failed-assert | svrl:successful-report)"/>
        </report>
      </xsl:for-each>
    </svrl-reports>
  </xsl:template>
</xsl:stylesheet>
