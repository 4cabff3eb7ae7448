<?xml version="1.0" encoding="UTF-8"?>
<!--
  Shown when a person opens feed.xml or atom.xml in a browser: a readable page that says what a
  feed is and how to subscribe, then lists the items. Feed readers ignore it.
  XSLT 1.0 (the only version browsers run); handles RSS 2.0 and Atom 1.0.
  Only linked from the feeds when [feeds] stylesheet = true: Chromium now covers XSLT-styled
  pages with a banner announcing XSLT's removal, so feeds.html is the page people are sent to.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes"
      doctype-system="about:legacy-compat"/>

  <xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>
  <xsl:variable name="site" select="/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href"/>
  <xsl:variable name="lang" select="string(/rss/channel/language | /atom:feed/@xml:lang)"/>
  <xsl:variable name="ko" select="starts-with($lang, 'ko') or $lang = ''"/>
  <xsl:variable name="self" select="/rss/channel/atom:link[@rel='self']/@href | /atom:feed/atom:link[@rel='self']/@href"/>

  <xsl:template match="/">
    <html lang="{$lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> · <xsl:choose><xsl:when test="$ko">피드</xsl:when><xsl:otherwise>feed</xsl:otherwise></xsl:choose></title>
        <style>
          :root { color-scheme: light dark; }
          body { font-family: 'Apple SD Gothic Neo', 'Malgun Gothic', '맑은 고딕', 'Noto Sans KR', sans-serif;
                 max-width: 44rem; margin: 0 auto; padding: 1.5rem 1rem 4rem; line-height: 1.6;
                 word-break: keep-all; overflow-wrap: anywhere; color: #1f2328; background: #ffffff; }
          a { color: #0b57d0; }
          .about { background: #eef4ff; border: 1px solid #b6cdfc; border-radius: 8px; padding: 1rem 1.25rem; }
          .about code { display: block; margin-top: .5rem; padding: .5rem; background: #ffffff;
                        border: 1px solid #d0d7de; border-radius: 4px; word-break: break-all; }
          ol { list-style: none; padding: 0; }
          li { padding: .9rem 0; border-bottom: 1px solid #d0d7de; }
          .item-title { font-weight: 700; font-size: 1.05rem; }
          .meta { color: #57606a; font-size: .875rem; }
          @media (prefers-color-scheme: dark) {
            body { color: #e6edf3; background: #0d1117; }
            a { color: #79b8ff; }
            .about { background: #161b22; border-color: #30363d; }
            .about code { background: #0d1117; border-color: #30363d; }
            li { border-color: #30363d; }
            .meta { color: #9da7b3; }
          }
        </style>
      </head>
      <body>
        <header>
          <h1><xsl:value-of select="$title"/></h1>
          <p><a href="{$site}"><xsl:value-of select="$site"/></a></p>
        </header>
        <section class="about">
          <xsl:choose>
            <xsl:when test="$ko">
              <h2>이 페이지는 피드(RSS)입니다</h2>
              <p>피드는 새 소식을 자동으로 받아 보는 주소입니다. 아래 주소를 복사해 피드 리더
                (예: Feedly, Inoreader, NetNewsWire, Thunderbird)에 붙여 넣으면 새 글이 올라올 때마다
                알려 줍니다. 별도의 가입은 필요 없습니다.</p>
            </xsl:when>
            <xsl:otherwise>
              <h2>This page is a news feed</h2>
              <p>A feed brings new items to you automatically. Copy the address below into a feed
                reader (Feedly, Inoreader, NetNewsWire, Thunderbird, …) to be told whenever
                something new is published. No sign-up needed.</p>
            </xsl:otherwise>
          </xsl:choose>
          <code><xsl:value-of select="$self"/></code>
        </section>
        <main>
          <h2><xsl:choose><xsl:when test="$ko">최근 소식</xsl:when><xsl:otherwise>Latest</xsl:otherwise></xsl:choose></h2>
          <ol>
            <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
          </ol>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <a class="item-title" href="{link}"><xsl:value-of select="title"/></a>
      <div class="meta">
        <xsl:call-template name="rfc822-date"><xsl:with-param name="d" select="pubDate"/></xsl:call-template>
        <xsl:if test="category"> · <xsl:value-of select="category[1]"/></xsl:if>
      </div>
      <!-- An RSS description is HTML: feedkit escapes the plain-text summary once more
           ("AT&amp;T" in the XML is "AT&amp;amp;T"). Undo that escaping here, or the page shows
           "AT&amp;T". Only &lt; &gt; &amp; occur (html.escape with quote=False); &amp; last. -->
      <p><xsl:call-template name="unescape">
        <xsl:with-param name="text">
          <xsl:call-template name="unescape">
            <xsl:with-param name="text">
              <xsl:call-template name="unescape">
                <xsl:with-param name="text" select="string(description)"/>
                <xsl:with-param name="from" select="'&amp;lt;'"/>
                <xsl:with-param name="to" select="'&lt;'"/>
              </xsl:call-template>
            </xsl:with-param>
            <xsl:with-param name="from" select="'&amp;gt;'"/>
            <xsl:with-param name="to" select="'&gt;'"/>
          </xsl:call-template>
        </xsl:with-param>
        <xsl:with-param name="from" select="'&amp;amp;'"/>
        <xsl:with-param name="to" select="'&amp;'"/>
      </xsl:call-template></p>
    </li>
  </xsl:template>

  <!-- Replace every "from" in "text" with "to" (XSLT 1.0 has no replace()). -->
  <xsl:template name="unescape">
    <xsl:param name="text"/>
    <xsl:param name="from"/>
    <xsl:param name="to"/>
    <xsl:choose>
      <xsl:when test="contains($text, $from)">
        <xsl:value-of select="substring-before($text, $from)"/>
        <xsl:value-of select="$to"/>
        <xsl:call-template name="unescape">
          <xsl:with-param name="text" select="substring-after($text, $from)"/>
          <xsl:with-param name="from" select="$from"/>
          <xsl:with-param name="to" select="$to"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <a class="item-title" href="{atom:link[not(@rel) or @rel='alternate'][1]/@href}"><xsl:value-of select="atom:title"/></a>
      <div class="meta">
        <xsl:call-template name="iso-date"><xsl:with-param name="d" select="atom:published"/></xsl:call-template>
        <xsl:if test="atom:category"> · <xsl:value-of select="atom:category[1]/@term"/></xsl:if>
      </div>
      <p><xsl:value-of select="atom:summary"/></p>
    </li>
  </xsl:template>
  <!-- "Tue, 11 Jun 2024 14:30:00 +0900" → "2024년 6월 11일" (Korean) or "Tue, 11 Jun 2024" -->
  <xsl:template name="rfc822-date">
    <xsl:param name="d"/>
    <xsl:choose>
      <xsl:when test="not($ko)"><xsl:value-of select="substring($d, 1, 16)"/></xsl:when>
      <xsl:otherwise>
    <xsl:variable name="rest" select="normalize-space(substring-after($d, ','))"/>
    <xsl:variable name="mon" select="substring($rest, string-length(substring-before($rest, ' ')) + 2, 3)"/>
    <xsl:value-of select="substring($rest, string-length(substring-before($rest, ' ')) + 6, 4)"/>
    <xsl:text>년 </xsl:text>
    <xsl:value-of select="(string-length(substring-before('JanFebMarAprMayJunJulAugSepOctNovDec', $mon)) div 3) + 1"/>
    <xsl:text>월 </xsl:text>
    <xsl:value-of select="number(substring-before($rest, ' '))"/>
    <xsl:text>일</xsl:text>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- "2024-06-11T14:30:00+09:00" → "2024년 6월 11일" (Korean) or "2024-06-11" -->
  <xsl:template name="iso-date">
    <xsl:param name="d"/>
    <xsl:if test="not($ko)"><xsl:value-of select="substring($d, 1, 10)"/></xsl:if>
    <xsl:if test="$ko">
    <xsl:value-of select="substring($d, 1, 4)"/>
    <xsl:text>년 </xsl:text>
    <xsl:value-of select="number(substring($d, 6, 2))"/>
    <xsl:text>월 </xsl:text>
    <xsl:value-of select="number(substring($d, 9, 2))"/>
    <xsl:text>일</xsl:text>
    </xsl:if>
  </xsl:template>
</xsl:stylesheet>
